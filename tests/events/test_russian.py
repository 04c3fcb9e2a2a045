"""The events pages and texts in Russian: the audit log's headings, types and actors, the
webhook form's errors, flash messages, the delivery log's plural retry texts and the owners'
e-mail about a disabled endpoint."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django_scopes import scope, scopes_disabled

from core.stored_text import literal_text, stored_ngettext
from events.models import Event
from events.outbox import OutboxEmail
from events.services import event_record
from events.webhooks import _tell_owners, webhook_endpoint_create, webhook_secret_problem
from tests.factories import MembershipFactory
from tests.helpers import russian_plurals

pytestmark = pytest.mark.django_db


RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
SECRET = "s3cret-signing-key-0123456789"


def test_the_audit_log_reads_in_russian(client, owner, tenant):
    with scope(tenant=tenant):
        event_record(
            tenant=tenant, type="client.created", description=literal_text("x"), client_id=5
        )
    page = client.get(reverse("events:event_list"), **RU).content.decode()
    assert "Журнал событий" in page
    assert "Клиент создан" in page  # the type's label, not its code
    assert "система" in page  # who did it: the system, in Russian
    assert "Любое событие" in page


def test_an_event_actor_of_the_machinery_is_named_in_the_readers_language(tenant):
    event = Event(tenant=tenant, type="router.unreachable", actor_label="router poller")
    with translation.override("ru"):
        assert event.who == "опрос роутеров"
    with translation.override("en"):
        assert event.who == "router poller"
    assert Event(tenant=tenant, actor_label="Billing token").who == "Billing token"


def test_the_webhook_form_refuses_in_russian(client, owner, tenant):
    data = {"url": "http://127.0.0.1:9/hook", "secret": SECRET, "is_active": "on"}
    page = client.post(reverse("events:webhook_endpoint_create"), data, **RU)
    assert page.status_code == 400
    assert "Выберите хотя бы одно событие." in page.content.decode()


def test_saving_an_endpoint_says_so_in_russian(client, owner, tenant):
    data = {
        "url": "http://127.0.0.1:9/hook",
        "secret": SECRET,
        "event_types": ["client.updated"],
        "is_active": "on",
    }
    page = client.post(reverse("events:webhook_endpoint_create"), data, follow=True, **RU)
    assert "Адрес вебхука http://127.0.0.1:9/hook сохранён." in page.content.decode()


def test_the_secret_rule_in_russian():
    with translation.override("ru"):
        assert webhook_secret_problem("short") == "Используйте от 16 до 200 символов."


@pytest.mark.parametrize(
    ("hours", "text"),
    russian_plurals(
        (
            "Все доставки не удавались в течение {n} часа.",
            "Все доставки не удавались в течение {n} часов.",
            "Все доставки не удавались в течение {n} часов.",
        )
    ),
)
def test_the_disabling_reason_counts_hours_in_russian(hours, text):
    from django.utils.translation import ngettext

    with translation.override("ru"):
        reason = ngettext(
            "Every delivery failed for %(count)s hour.",
            "Every delivery failed for %(count)s hours.",
            hours,
        ) % {"count": hours}
    assert reason == text


def test_the_owners_are_told_in_russian(tenant):
    """In the owners' language (here the tenant's), whatever language the worker has active."""
    tenant.language = "ru"
    tenant.save(update_fields=["language"])
    MembershipFactory(tenant=tenant, role="owner", user__email="owner@example.com")
    with scopes_disabled():
        endpoint = webhook_endpoint_create(
            tenant=tenant,
            actor=None,
            url="http://127.0.0.1:9/hook",
            secret=SECRET,
            event_types=["client.updated"],
        )
    reason = stored_ngettext(
        "Every delivery failed for %(count)s hour.",
        "Every delivery failed for %(count)s hours.",
        24,
    )
    with translation.override("en"):
        _tell_owners(tenant, endpoint, reason, timezone.now())
    with scopes_disabled():
        notice = OutboxEmail.objects.get(tenant=tenant, kind="webhook_disabled")
    assert notice.subject == "Адрес вебхука отключён: http://127.0.0.1:9/hook"
    assert notice.body.startswith("Clientdesk отключил адрес вебхука http://127.0.0.1:9/hook")
    assert "Все доставки не удавались в течение 24 часов. События на него больше не" in notice.body


def test_an_event_written_in_russian_reads_in_its_readers_language(tenant):
    with translation.override("ru"), scopes_disabled():
        endpoint = webhook_endpoint_create(
            tenant=tenant,
            actor=None,
            url="http://127.0.0.1:9/ru",
            secret=SECRET,
            event_types=["client.updated"],
        )
    with scopes_disabled():
        event = Event.objects.get(tenant=tenant, object_id=endpoint.pk)
    with translation.override("ru"):
        assert str(event.description) == "Адрес вебхука http://127.0.0.1:9/ru добавлен."
    with translation.override("en"):
        assert str(event.description) == "Webhook endpoint http://127.0.0.1:9/ru added."


@pytest.mark.parametrize(
    ("count", "text"),
    russian_plurals(
        (
            "{n} подписка приостановлена",
            "{n} подписки приостановлены",
            "{n} подписок приостановлено",
        )
    ),
)
def test_the_timeline_counts_subscriptions_in_russian(count, text):
    from django.utils.translation import ngettext

    with translation.override("ru"):
        line = ngettext(
            "%(count)s subscription suspended", "%(count)s subscriptions suspended", count
        ) % {"count": count}
    assert line == text

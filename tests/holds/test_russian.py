"""Holds and the dashboard in Russian: hold kinds, the flash message, the e-mail's default
wording, and the expiring window's days in their plural forms."""

import pytest
from django.urls import reverse
from django.utils import translation

from holds.models import ClientHold, HoldKind, NotificationKind
from holds.notifications import notification_templates, render_notification
from holds.services import already_on_hold
from tests.factories import ClientFactory
from tests.helpers import russian_plurals

pytestmark = pytest.mark.django_db
RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


def test_hold_kinds_and_refusals_in_russian():
    with translation.override("ru"):
        assert str(HoldKind.ADMINISTRATIVE.label) == "Административная блокировка"
        assert str(HoldKind.FINANCIAL.label) == "Финансовая блокировка"
        assert already_on_hold(HoldKind.FINANCIAL) == "На клиенте уже стоит финансовая блокировка."
    with translation.override("en"):
        assert already_on_hold(HoldKind.FINANCIAL) == "The client is already on financial hold."


def test_default_e_mails_follow_the_clients_language_whatever_is_active(tenant):
    templates = notification_templates(tenant)
    hold = ClientHold(kind=HoldKind.ADMINISTRATIVE, reason="Спор по счёту")
    for language, subject_words, greeting in (
        ("ru", "ваша услуга заблокирована", "Здравствуйте"),
        ("en", "your service is on hold", "Dear"),
    ):
        client = ClientFactory(tenant=tenant, language=language)
        with translation.override("en" if language == "ru" else "ru"):
            subject, body = render_notification(
                templates,
                NotificationKind.HOLD_SET,
                tenant=tenant,
                client=client,
                hold=hold,
                subscription=None,
            )
        assert subject == f"{tenant.name}: {subject_words}"
        assert body.startswith(greeting)


def test_hold_flash_message_in_russian(client, tenant, login_as, funded):
    login_as(tenant, "owner")
    customer = funded(tenant)
    url = reverse("holds:client_hold", kwargs={"number": customer.number})
    page = client.post(url, {"reason": "Спор по счёту"}, follow=True, **RU).content.decode()
    assert f"Клиенту №{customer.number} поставлена административная блокировка." in page


@pytest.mark.parametrize(("window", "words"), russian_plurals(("{n} дня", "{n} дней", "{n} дней")))
def test_dashboard_expiring_window_plural_forms(client, tenant, login_as, window, words):
    tenant.expiring_window_days = window
    tenant.save()
    login_as(tenant, "owner")
    page = client.get(reverse("holds:dashboard"), **RU).content.decode()
    assert f"Подписки, истекающие в течение {words}" in page
    assert "Сводка" in page


def test_dashboard_expiring_window_in_english(client, tenant, login_as):
    tenant.expiring_window_days = 1
    tenant.save()
    login_as(tenant, "owner")
    page = client.get(reverse("holds:dashboard")).content.decode()
    assert "Subscriptions expiring within 1 day<" in page

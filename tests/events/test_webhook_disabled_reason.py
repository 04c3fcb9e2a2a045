"""Why a webhook endpoint was disabled is stored as its message: the delivery worker, with
English active, writes it once, and each reader reads it in their own language: the Webhooks
page, the endpoint's page, the API and each owner's e-mail; a reason stored before keeps its
words."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django_scopes import scopes_disabled

from core.stored_text import StoredText, literal_text
from events.outbox import OutboxEmail
from events.webhook_models import WebhookEndpoint
from events.webhooks import webhook_endpoint_create, webhook_endpoint_disable
from tenancy.models import OperatorProfile
from tenancy.services import api_token_create
from tests.factories import MembershipFactory
from tests.helpers import migrated_back_to

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
SECRET = "s3cret-signing-key-0123456789"
ENGLISH = "Every delivery failed for 24 hours."
RUSSIAN = "Все доставки не удавались в течение 24 часов."


def owner_of(tenant, language: str):
    membership = MembershipFactory(
        tenant=tenant, role="owner", user__email=f"owner-{language}@example.com"
    )
    OperatorProfile.objects.create(user=membership.user, language=language)
    return membership.user


@pytest.fixture
def disabled(tenant, settings):
    """An endpoint the worker disabled in English, with an English and a Russian owner."""
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 24 * 3600
    english, russian = owner_of(tenant, "en"), owner_of(tenant, "ru")
    with scopes_disabled():
        endpoint = webhook_endpoint_create(
            tenant=tenant,
            actor=None,
            url="http://127.0.0.1:9/hook",
            secret=SECRET,
            event_types=["client.updated"],
        )
        with translation.override("en"):
            webhook_endpoint_disable(endpoint=endpoint, now=timezone.now())
        endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk)
    return {"endpoint": endpoint, "english": english, "russian": russian}


def test_the_reason_is_stored_as_its_message(disabled):
    reason = disabled["endpoint"].disabled_reason
    assert isinstance(reason, StoredText) and reason.plural and reason.count == 24
    with translation.override("ru"):
        assert str(reason) == RUSSIAN
    with translation.override("en"):
        assert str(reason) == ENGLISH


def test_the_pages_read_in_each_owners_language(client, disabled):
    edit = reverse("events:webhook_endpoint_edit", args=[disabled["endpoint"].pk])
    client.force_login(disabled["russian"])
    listed = client.get(reverse("events:webhook_endpoint_list")).content.decode()
    assert f'title="{RUSSIAN}"' in listed and ENGLISH not in listed
    assert RUSSIAN in client.get(edit).content.decode()
    client.force_login(disabled["english"])
    listed = client.get(reverse("events:webhook_endpoint_list")).content.decode()
    assert f'title="{ENGLISH}"' in listed and RUSSIAN not in listed
    assert ENGLISH in client.get(edit).content.decode()


def test_the_api_answers_the_reason_as_a_string_in_the_callers_language(client, tenant, disabled):
    with scopes_disabled():
        secret = api_token_create(tenant=tenant, actor=None, name="t", scope="owner").secret
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    path = f"/api/v1/webhooks/{disabled['endpoint'].pk}/"
    assert client.get(path, **bearer, **RU).json()["disabled_reason"] == RUSSIAN
    assert client.get(path, **bearer, **EN).json()["disabled_reason"] == ENGLISH
    (listed,) = client.get("/api/v1/webhooks/", **bearer, **RU).json()["items"]
    assert listed["disabled_reason"] == RUSSIAN


def test_each_owner_is_told_the_reason_in_their_own_language(tenant, disabled):
    with scopes_disabled():
        notices = {
            notice.to[0]: notice.body
            for notice in OutboxEmail.objects.filter(tenant=tenant, kind="webhook_disabled")
        }
    assert RUSSIAN in notices["owner-ru@example.com"]
    assert ENGLISH in notices["owner-en@example.com"]


def test_turning_the_endpoint_on_again_clears_the_reason(client, disabled):
    client.force_login(disabled["english"])
    endpoint = disabled["endpoint"]
    client.post(
        reverse("events:webhook_endpoint_edit", args=[endpoint.pk]),
        {"url": endpoint.url, "event_types": ["client.updated"], "is_active": "on"},
    )
    with scopes_disabled():
        endpoint.refresh_from_db()
    assert endpoint.is_active and not endpoint.disabled_reason


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_an_old_reason_as_it_was(tenant):
    with scopes_disabled():
        endpoint = webhook_endpoint_create(
            tenant=tenant,
            actor=None,
            url="http://127.0.0.1:9/old",
            secret=SECRET,
            event_types=["client.updated"],
        )
    with migrated_back_to(("events", "0008_event_description_stored_text")) as cursor:
        cursor.execute(
            "UPDATE events_webhookendpoint SET disabled_reason = %s WHERE id = %s",
            ["Every delivery failed for 24 hours (100%).", endpoint.pk],
        )
    with scopes_disabled():
        reason = WebhookEndpoint.objects.get(pk=endpoint.pk).disabled_reason
    assert reason == literal_text("Every delivery failed for 24 hours (100%).")
    with translation.override("ru"):
        assert str(reason) == "Every delivery failed for 24 hours (100%)."

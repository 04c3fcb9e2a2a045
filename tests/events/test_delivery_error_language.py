"""Why a webhook delivery's try failed is stored as its message: the delivery worker, with
English active, writes it once, and each owner reads it in their own language on the
endpoint's delivery log and in the API, with what the receiver or the system said kept as it
was; a delivery failed by turning the endpoint off reads so too; the migration keeps an old
error's words, and going back keeps a message's."""

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from core.stored_text import StoredText, literal_text
from events.services import event_record
from events.webhook_models import WebhookDelivery
from events.webhooks import webhook_endpoint_create, webhook_endpoint_update
from tenancy.services import api_token_create
from tests.events.receiver import Answer
from tests.factories import MembershipFactory, TenantFactory
from tests.helpers import migrated_back_to

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]

SECRET = "s3cret-signing-key-0123456789"
RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ANSWERED_EN = "The receiver answered 500."
ANSWERED_RU = "Получатель ответил 500."


def endpoint_for(tenant, url):
    return webhook_endpoint_create(
        tenant=tenant, actor=None, url=url, secret=SECRET, event_types=["client.updated"]
    )


def record(tenant, client_id=7):
    with transaction.atomic():
        return event_record(
            tenant=tenant,
            type="client.updated",
            description=literal_text("Client edited."),
            client_id=client_id,
            payload={},
        )


def delivery_of(tenant) -> WebhookDelivery:
    with scopes_disabled():
        return WebhookDelivery.objects.get(tenant=tenant)


@pytest.fixture
def answered_500(receiver):
    tenant = TenantFactory()
    endpoint = endpoint_for(tenant, receiver.url())
    receiver.script = [Answer(status=500, body=b"database down")]
    with translation.override("en"):
        record(tenant)
        receiver.wait_for(1)
    return endpoint, delivery_of(tenant)


def test_the_receivers_answer_is_stored_as_a_message(answered_500):
    _endpoint, delivery = answered_500
    assert isinstance(delivery.error, StoredText) and delivery.error.params == {"code": 500}
    with translation.override("ru"):
        assert str(delivery.error) == ANSWERED_RU
    with translation.override("en"):
        assert str(delivery.error) == ANSWERED_EN


def test_the_delivery_log_reads_in_each_owners_language(client, answered_500):
    endpoint, _delivery = answered_500
    client.force_login(MembershipFactory(tenant=endpoint.tenant, role="owner").user)
    page = reverse("events:webhook_delivery_list", args=[endpoint.pk])
    russian = client.get(page, **RU).content.decode()
    assert ANSWERED_RU in russian and ANSWERED_EN not in russian
    english = client.get(page, **EN).content.decode()
    assert ANSWERED_EN in english and ANSWERED_RU not in english


def test_the_api_answers_the_error_in_the_callers_language(client, answered_500):
    endpoint, _delivery = answered_500
    with scopes_disabled():
        token = api_token_create(tenant=endpoint.tenant, actor=None, name="t", scope="owner")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token.secret}"}
    path = f"/api/v1/webhooks/{endpoint.pk}/deliveries/"
    (listed,) = client.get(path, **bearer, **RU).json()["items"]
    assert listed["error"] == ANSWERED_RU
    (listed,) = client.get(path, **bearer, **EN).json()["items"]
    assert listed["error"] == ANSWERED_EN


def test_a_connection_failure_keeps_what_the_system_said_inside_the_message():
    tenant = TenantFactory()
    endpoint_for(tenant, "http://127.0.0.1:1/hook")  # nothing listens on port 1
    with translation.override("en"):
        record(tenant)
    error = delivery_of(tenant).error
    assert error.msgid == "The connection failed: %(error)s."
    with translation.override("ru"):
        assert str(error) == f"Ошибка соединения: {error.params['error']}."
    with translation.override("en"):
        assert str(error) == f"The connection failed: {error.params['error']}."


def test_turning_the_endpoint_off_fails_its_open_deliveries_in_the_readers_language(receiver):
    tenant = TenantFactory()
    endpoint = endpoint_for(tenant, receiver.url())
    receiver.script = [Answer(status=500)]
    record(tenant)
    receiver.wait_for(1)
    with scopes_disabled(), translation.override("en"):
        webhook_endpoint_update(
            endpoint=endpoint,
            actor=None,
            url=endpoint.url,
            event_types=["client.updated"],
            is_active=False,
        )
    delivery = delivery_of(tenant)
    assert delivery.status == "failed"
    with translation.override("ru"):
        assert str(delivery.error) == "Адрес выключен."


def test_the_migration_keeps_an_old_error_forward_and_a_message_back(receiver):
    tenant = TenantFactory()
    endpoint_for(tenant, receiver.url())
    receiver.script = [Answer(status=500)]
    record(tenant)
    receiver.wait_for(1)
    pk = delivery_of(tenant).pk
    with migrated_back_to(("events", "0010_webhook_disabled_reason_stored_text")) as cursor:
        cursor.execute("SELECT error FROM events_webhookdelivery WHERE id = %s", [pk])
        assert cursor.fetchone() == ("The receiver answered %(code)s.",)
        cursor.execute(
            "UPDATE events_webhookdelivery SET error = %s WHERE id = %s",
            ["The receiver answered 503 (100%).", pk],
        )
    error = delivery_of(tenant).error
    assert error == literal_text("The receiver answered 503 (100%).")
    with translation.override("ru"):
        assert str(error) == "The receiver answered 503 (100%)."

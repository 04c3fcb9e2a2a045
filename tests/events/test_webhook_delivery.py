"""Webhooks delivered to a receiver on 127.0.0.1: signed, retried after 500s and timeouts,
in order per object, redelivered with a new id, disabled after a day of failures, and never
sent to a refused address. Real transactions (the fan-out runs after commit) and Celery in
eager mode, so that what is queued runs in the test."""

import hashlib
import hmac
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from billing.services import account_top_up
from core.stored_text import literal_text
from events.models import Event
from events.outbox import EmailStatus, OutboxEmail
from events.services import EventLine, event_record, events_record_bulk
from events.webhook_models import WebhookDelivery, WebhookEndpoint
from events.webhooks import (
    webhook_delivery_send,
    webhook_endpoint_create,
    webhook_redeliver,
    webhook_signature,
    webhooks_dispatch,
    webhooks_fan_out,
    webhooks_fan_out_sweep,
)
from tests.events.receiver import Answer
from tests.factories import ClientFactory, MembershipFactory, TenantFactory, make_account

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]

SECRET = "s3cret-signing-key-0123456789"


def endpoint_for(tenant, receiver, types=("client.updated",), **kwargs):
    return webhook_endpoint_create(
        tenant=tenant,
        actor=None,
        url=receiver.url(),
        secret=SECRET,
        event_types=list(types),
        **kwargs,
    )


def record(tenant, client_id, type="client.updated", **payload):  # noqa: A002
    with transaction.atomic():
        return event_record(
            tenant=tenant,
            type=type,
            description=literal_text("Client edited."),
            client_id=client_id,
            payload=payload,
        )


def deliveries(tenant):
    with scopes_disabled():
        return list(WebhookDelivery.objects.filter(tenant=tenant).order_by("pk"))


def dispatch_later(seconds: float):
    """What beat's dispatch does once `seconds` have passed."""
    return webhooks_dispatch(now=timezone.now() + timedelta(seconds=seconds))


def test_an_event_is_posted_signed_with_its_headers_and_logged(receiver):
    tenant = TenantFactory()
    endpoint = endpoint_for(tenant, receiver)
    event = record(tenant, 7, name=["Old", "New"])
    (request,) = receiver.wait_for(1)
    assert request.signature_valid(SECRET)
    assert not request.signature_valid("another-secret-0123456789")
    assert request.headers["X-Clientdesk-Event"] == "client.updated"
    assert request.headers["Content-Type"] == "application/json"
    body = request.event
    assert (body["id"], body["type"], body["client_id"]) == (event.pk, "client.updated", 7)
    assert body["payload"] == {"name": ["Old", "New"]} and body["tenant"] == tenant.slug
    (delivery,) = deliveries(tenant)
    assert str(delivery.delivery_id) == request.delivery
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("delivered", 204, 1)
    assert delivery.endpoint_id == endpoint.pk and delivery.finished_at
    assert delivery.duration_ms is not None and delivery.lease_expires_at is None


def test_the_signature_is_the_hmac_of_timestamp_and_body():
    digest = hmac.new(b"key", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert webhook_signature("key", 1700000000, b'{"a":1}') == f"sha256={digest}"
    assert webhook_signature("key", 1700000001, b'{"a":1}') != f"sha256={digest}"


def test_only_the_chosen_types_of_the_tenants_active_endpoints_are_sent(receiver):
    tenant, other = TenantFactory(), TenantFactory()
    endpoint_for(tenant, receiver, types=["hold.placed"])
    endpoint_for(tenant, receiver, is_active=False)
    record(tenant, 1)  # client.updated: the active endpoint does not want it
    record(other, 1)  # another tenant, no endpoint
    record(tenant, 1, type="hold.placed")
    (request,) = receiver.wait_for(1)
    assert request.event["type"] == "hold.placed"
    assert len(deliveries(tenant)) == 1 and deliveries(other) == []


def test_a_top_up_through_the_posting_path_is_delivered(receiver):
    """Billing writes its events in its own statement: the fan-out hears it too."""
    tenant = TenantFactory()
    endpoint_for(tenant, receiver, types=["ledger.entry_posted"])
    account = make_account(ClientFactory(tenant=tenant))
    with scopes_disabled():
        account_top_up(account=account, amount=Decimal("12.50"))
    (request,) = receiver.wait_for(1)
    assert request.event["type"] == "ledger.entry_posted"
    assert request.signature_valid(SECRET)


def test_a_500_is_retried_with_the_same_delivery_id_after_the_backoff(receiver, settings):
    tenant = TenantFactory()
    endpoint = endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=500, body=b"database down")]
    record(tenant, 7)
    receiver.wait_for(1)
    (delivery,) = deliveries(tenant)
    assert delivery.status == "pending" and delivery.response_code == 500
    assert delivery.response_excerpt == "database down"
    assert str(delivery.error) == "The receiver answered 500."
    wait = (delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()
    assert wait == pytest.approx(settings.WEBHOOK_RETRY_BASE_SECONDS, abs=1)
    assert webhooks_dispatch() == 0  # not due yet
    assert dispatch_later(settings.WEBHOOK_RETRY_BASE_SECONDS + 1) == 1
    first, second = receiver.wait_for(2)
    assert first.delivery == second.delivery
    assert int(second.headers["X-Clientdesk-Timestamp"]) >= int(
        first.headers["X-Clientdesk-Timestamp"]
    )
    (delivery,) = deliveries(tenant)
    assert (delivery.status, delivery.attempts, str(delivery.error)) == ("delivered", 2, "")
    with scopes_disabled():
        assert WebhookEndpoint.objects.get(pk=endpoint.pk).failing_since is None


def test_the_backoff_doubles_up_to_its_cap(receiver, settings):
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=503)] * 4
    record(tenant, 7)
    waits = []
    for attempt in range(1, 5):
        receiver.wait_for(attempt)
        (delivery,) = deliveries(tenant)
        waits.append(round((delivery.next_attempt_at - delivery.last_attempt_at).total_seconds()))
        dispatch_later(settings.WEBHOOK_RETRY_MAX_SECONDS * 2)
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    assert waits == [base, 2 * base, 4 * base, 8 * base]
    receiver.wait_for(5)
    assert deliveries(tenant)[0].status == "delivered"


def test_a_timeout_is_retried(receiver, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    receiver.script = [Answer(delay=3)]
    record(tenant, 7)
    (delivery,) = deliveries(tenant)
    assert delivery.status == "pending"
    assert str(delivery.error) == "No answer within 1 second."
    assert delivery.response_code is None
    dispatch_later(settings.WEBHOOK_RETRY_BASE_SECONDS + 1)
    first, second = receiver.wait_for(2)
    assert first.delivery == second.delivery
    assert deliveries(tenant)[0].status == "delivered"


def test_redirects_are_not_followed(receiver):
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=307, headers={"Location": receiver.url("/elsewhere")})]
    record(tenant, 7)
    (delivery,) = deliveries(tenant)
    assert (delivery.status, delivery.response_code) == ("pending", 307)
    assert [r.path for r in receiver.received] == ["/hook"]


def test_events_of_one_object_are_sent_in_order(receiver, settings):
    """The second change of client 7 waits while the first is retried; client 8's does not."""
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=500)]
    first = record(tenant, 7, step=1)
    second = record(tenant, 7, step=2)
    other = record(tenant, 8, step=1)
    receiver.wait_for(2)
    assert [r.event["id"] for r in receiver.received] == [first.pk, other.pk]
    assert webhooks_dispatch() == 0  # the second waits behind the first
    dispatch_later(settings.WEBHOOK_RETRY_BASE_SECONDS + 1)
    receiver.wait_for(4)
    assert [r.event["id"] for r in receiver.received] == [first.pk, other.pk, first.pk, second.pk]
    assert {d.status for d in deliveries(tenant)} == {"delivered"}


def test_a_waiting_delivery_sent_directly_is_not_sent(receiver):
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=500)]
    record(tenant, 7, step=1)
    record(tenant, 7, step=2)
    receiver.wait_for(1)
    later = deliveries(tenant)[1]
    with scope(tenant=tenant):
        assert webhook_delivery_send(tenant=tenant, delivery_pk=later.pk) == "waiting"
    assert len(receiver.received) == 1


def test_redeliver_sends_a_new_delivery_and_keeps_the_first(receiver):
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    record(tenant, 7)
    (first_request,) = receiver.wait_for(1)
    (original,) = deliveries(tenant)
    with scope(tenant=tenant):
        again = webhook_redeliver(delivery=original, actor=None)
    _, second_request = receiver.wait_for(2)
    assert second_request.delivery == str(again.delivery_id) != first_request.delivery
    assert second_request.body == first_request.body
    original_after, again_after = deliveries(tenant)
    assert original_after.status == again_after.status == "delivered"
    assert again_after.redelivery_of_id == original.pk
    with scopes_disabled():
        assert Event.objects.filter(tenant=tenant, type="webhook_delivery.redelivered").exists()


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owners_told(receiver, settings):
    tenant = TenantFactory(name="Northwind")
    owner = MembershipFactory(tenant=tenant, role="owner", user__email="owner@example.com")
    MembershipFactory(tenant=tenant, role="manager", user__email="manager@example.com")
    endpoint = endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=500)] * 3
    record(tenant, 7)
    record(tenant, 8)
    receiver.wait_for(2)
    with scopes_disabled():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(hours=25)
        )
    dispatch_later(settings.WEBHOOK_RETRY_BASE_SECONDS + 1)
    receiver.wait_for(3)
    with scopes_disabled():
        endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at
    assert str(endpoint.disabled_reason) == "Every delivery failed for 24 hours."
    assert {d.status for d in deliveries(tenant)} == {"failed"}
    (message,) = mail.outbox
    assert message.to == [owner.user.email]
    assert endpoint.url in message.subject and "Northwind" in message.body
    with scopes_disabled():  # owed through the outbox in the disabling's transaction, sent once
        notice = OutboxEmail.objects.get(tenant=tenant, kind="webhook_disabled")
    assert notice.status == EmailStatus.SENT
    record(tenant, 9)  # a disabled endpoint receives nothing more
    assert len(deliveries(tenant)) == 2


def test_a_delivery_is_given_up_after_a_day(receiver, settings):
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=500)] * 2
    record(tenant, 7)
    with scopes_disabled():
        WebhookDelivery.objects.filter(tenant=tenant).update(
            created_at=timezone.now() - timedelta(hours=24, minutes=1)
        )
    dispatch_later(settings.WEBHOOK_RETRY_BASE_SECONDS + 1)
    receiver.wait_for(2)
    (delivery,) = deliveries(tenant)
    assert delivery.status == "failed" and str(delivery.error) == "The receiver answered 500."


def test_a_refused_address_is_never_connected_to(receiver, settings):
    """The policy is checked again at each connection (the network was allowed when saved)."""
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    settings.OUTBOUND_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    record(tenant, 7)
    (delivery,) = deliveries(tenant)
    assert delivery.status == "pending"
    assert str(delivery.error) == "127.0.0.1 is outside the networks Clientdesk may connect to."
    assert receiver.received == []


def test_fan_out_is_idempotent_and_the_sweep_makes_up_a_lost_one(receiver):
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    since = timezone.now() - timedelta(seconds=1)
    with scope(tenant=tenant), transaction.atomic():
        # Written without the after-commit fan-out, as if its process died at the commit.
        events_record_bulk(
            tenant=tenant,
            lines=[
                EventLine(type="client.updated", client_id=n, description=literal_text("x"))
                for n in (1, 2)
            ],
        )
        connection = transaction.get_connection()
        connection.run_on_commit = []
    assert deliveries(tenant) == []
    assert webhooks_fan_out_sweep() == 2
    assert webhooks_fan_out_sweep() == 0
    with scope(tenant=tenant):
        assert webhooks_fan_out(tenant=tenant, since=since) == 0
    receiver.wait_for(2)
    assert len({r.delivery for r in receiver.received}) == 2
    assert json.loads(receiver.received[0].body)["client_id"] in (1, 2)


def test_events_before_the_endpoint_was_active_are_not_sent(receiver):
    tenant = TenantFactory()
    record(tenant, 7)
    endpoint_for(tenant, receiver)
    assert webhooks_fan_out_sweep() == 0
    assert receiver.received == []


def test_a_rolled_back_change_sends_nothing(receiver):
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        event_record(
            tenant=tenant, type="client.updated", description=literal_text("x"), client_id=1
        )
        raise RuntimeError("the change failed")
    assert webhooks_fan_out_sweep() == 0
    assert receiver.received == [] and deliveries(tenant) == []

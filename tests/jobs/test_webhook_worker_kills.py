"""A worker killed with `kill -9` in the middle of a webhook delivery: a real Celery worker
(prefork) on the run's database and queue, the receiver on 127.0.0.1 holding the first request
open until the worker is dead. The redelivered message finds the delivery under the dead
worker's lease and leaves it; once the lease expires, the sweep puts it back and the dispatch
sends it again with the same delivery id. No delivery is lost."""

import pytest
from django.db import transaction
from django_scopes import scopes_disabled

from config.celery import app
from core.stored_text import literal_text
from events.services import EventLine, events_record_bulk
from events.webhook_models import WebhookDelivery
from events.webhooks import webhook_endpoint_create
from tests.events.receiver import Answer, Receiver
from tests.factories import TenantFactory
from tests.jobs.processes import backends_gone, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 30  # seconds: a delivery's lease in the worker (above its task's 25 s limit)
SECRET = "s3cret-signing-key-0123456789"


@pytest.fixture
def receiver():
    started = Receiver()
    yield started
    started.stop()


def all_delivered(tenant) -> bool:
    with scopes_disabled():
        statuses = set(
            WebhookDelivery.objects.filter(tenant=tenant).values_list("status", flat=True)
        )
    return statuses == {"delivered"}


def test_pool_killed_mid_delivery_the_same_delivery_is_sent_again(
    workers,
    receiver,
    monkeypatch,
):
    monkeypatch.setenv("WEBHOOK_LEASE_SECONDS", str(LEASE))
    monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "5")
    worker = workers()
    tenant = TenantFactory()
    webhook_endpoint_create(
        tenant=tenant,
        actor=None,
        url=receiver.url(),
        secret=SECRET,
        event_types=["client.updated"],
    )
    receiver.script = [Answer(delay=60)]  # the first request is held until the worker is dead
    with transaction.atomic():
        events_record_bulk(
            tenant=tenant,
            lines=[
                EventLine(
                    type="client.updated",
                    client_id=n,
                    description=literal_text(f"Client {n} edited."),
                )
                for n in (1, 2, 3)
            ],
        )
    (held,) = receiver.wait_for(1, timeout=60)
    worker.kill_pool()
    wait_until(backends_gone, 30, "the killed pool process's session ends")
    with scopes_disabled():
        killed = WebhookDelivery.objects.get(delivery_id=held.delivery)
    assert (killed.status, killed.attempts) == ("running", 1)

    def sweep_and_dispatch():  # what beat does every minute and every few seconds
        app.send_task("core.tasks.leases_sweep")
        app.send_task("events.tasks.webhooks_dispatch_run")
        return all_delivered(tenant)

    wait_until(sweep_and_dispatch, LEASE + 60, "every delivery delivered")
    seen = [request.delivery for request in receiver.received]
    with scopes_disabled():
        ids = {str(d.delivery_id) for d in WebhookDelivery.objects.filter(tenant=tenant)}
        killed.refresh_from_db()
    assert set(seen) == ids and len(ids) == 3  # none lost
    assert seen.count(held.delivery) == 2  # the killed one again, with the same id
    assert killed.attempts == 2 and killed.lease_expires_at is None
    assert all(request.signature_valid(SECRET) for request in receiver.received)

"""Beat's dispatch run twice, or by two workers at once, queues each due delivery once. The
sends it queues go to a broker nobody reads here (they are recorded instead)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from config.celery import app as celery_app
from core.stored_text import literal_text
from events import webhooks
from events.services import EventLine, events_record_bulk
from events.webhook_models import WebhookDelivery
from events.webhooks import webhook_endpoint_create, webhooks_dispatch, webhooks_fan_out
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch):
    """The (tenant id, delivery pk) of every send queued."""
    sent: list = []
    lock = threading.Lock()

    def record(rows):
        with lock:
            sent.extend(rows)

    monkeypatch.setattr(webhooks, "_queue_send", record)
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield sent
    celery_app.conf.task_always_eager = previous


def due_deliveries(count: int):
    tenant = TenantFactory()
    webhook_endpoint_create(
        tenant=tenant,
        actor=None,
        url="http://127.0.0.1:9/hook",
        secret="s3cret-signing-key-0123456789",
        event_types=["client.updated"],
    )
    lines = [
        EventLine(type="client.updated", client_id=n, description=literal_text("x"))
        for n in range(count)
    ]
    with scope(tenant=tenant):
        with transaction.atomic():
            events_record_bulk(tenant=tenant, lines=lines)
        webhooks_fan_out(tenant=tenant, since=timezone.now() - timedelta(minutes=1))
    return tenant


def test_a_second_dispatch_queues_nothing_until_a_lease_has_passed(queued):
    due_deliveries(30)
    assert len(queued) == 30 and len(set(queued)) == 30  # the fan-out's own dispatch
    assert webhooks_dispatch() == 0
    later = timezone.now() + WebhookDelivery.lease_duration() + timedelta(seconds=1)
    assert webhooks_dispatch(now=later) == 30  # their tasks were lost: queued again


def test_two_dispatches_at_once_queue_each_delivery_once(queued):
    tenant = due_deliveries(1200)
    queued.clear()
    with scopes_disabled():
        WebhookDelivery.objects.filter(tenant=tenant).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
    counts = []
    start = threading.Barrier(2)

    def dispatch():
        try:
            start.wait()
            counts.append(webhooks_dispatch())
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 1200
    assert len(queued) == 1200 and len(set(queued)) == 1200

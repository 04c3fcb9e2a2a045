"""The webhooks on /metrics: deliveries to a receiver on 127.0.0.1 move the outcome counters
and the latency and response histograms; the backlog gauges read the deliveries as they are, in
one indexed statement whatever their number; worker processes' counts are summed from the
multiprocess directory."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled
from prometheus_client import CollectorRegistry, generate_latest, multiprocess
from prometheus_client.parser import text_string_to_metric_families

from core.stored_text import literal_text
from events.models import Event
from events.services import event_record
from events.webhook_metrics import _backlog_statement, webhook_backlog_families
from events.webhook_models import WebhookDelivery, WebhookEndpoint
from events.webhooks import webhook_endpoint_create, webhook_endpoint_update, webhooks_dispatch
from tests.events.receiver import Answer
from tests.factories import TenantFactory
from tests.ops.conftest import sample, scrape  # noqa: F401 - the /metrics fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("celery_eager")]

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-signing-key-0123456789"
DELIVERIES = "clientdesk_webhook_deliveries_total"
LATENCY = "clientdesk_webhook_delivery_latency_seconds_count"
RESPONSE = "clientdesk_webhook_response_duration_seconds_count"
DISABLED = "clientdesk_webhook_endpoints_disabled_total"


def endpoint_for(tenant, receiver, **kwargs):
    return webhook_endpoint_create(
        tenant=tenant,
        actor=None,
        url=receiver.url(),
        secret=SECRET,
        event_types=["client.updated"],
        **kwargs,
    )


def record(tenant, client_id):
    with transaction.atomic():
        return event_record(
            tenant=tenant,
            type="client.updated",
            description=literal_text("Client edited."),
            client_id=client_id,
        )


def dispatch_later(seconds: float):
    return webhooks_dispatch(now=timezone.now() + timedelta(seconds=seconds))


def moved(before, after, name, **labels):
    return sample(after, name, **labels) - sample(before, name, **labels)


def test_a_retried_then_delivered_event_moves_the_counters(receiver, scrape, settings):  # noqa: F811
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=500)]
    before = scrape()
    record(tenant, 7)
    receiver.wait_for(1)
    middle = scrape()
    assert moved(before, middle, DELIVERIES, outcome="retry") == 1
    assert moved(before, middle, DELIVERIES, outcome="delivered") == 0
    assert moved(before, middle, RESPONSE, answer="5xx") == 1
    assert moved(before, middle, LATENCY) == 0
    with scopes_disabled():  # the event happened ten minutes ago: latency counts from it
        Event.objects.filter(tenant=tenant).update(
            created_at=timezone.now() - timedelta(minutes=10)
        )
    dispatch_later(settings.WEBHOOK_RETRY_BASE_SECONDS + 1)
    receiver.wait_for(2)
    after = scrape()
    assert moved(middle, after, DELIVERIES, outcome="delivered") == 1
    assert moved(middle, after, DELIVERIES, outcome="retry") == 0
    assert moved(middle, after, RESPONSE, answer="2xx") == 1
    assert moved(middle, after, LATENCY) == 1
    latency = "clientdesk_webhook_delivery_latency_seconds_sum"
    assert 600 <= moved(middle, after, latency) < 660
    buckets = "clientdesk_webhook_delivery_latency_seconds_bucket"
    assert moved(middle, after, buckets, le="300.0") == 0
    assert moved(middle, after, buckets, le="900.0") == 1


def test_a_timeout_is_a_try_without_an_answer(receiver, scrape, settings):  # noqa: F811
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    tenant = TenantFactory()
    endpoint_for(tenant, receiver)
    receiver.script = [Answer(delay=3)]
    before = scrape()
    record(tenant, 7)
    after = scrape()
    assert moved(before, after, RESPONSE, answer="none") == 1
    response_sum = "clientdesk_webhook_response_duration_seconds_sum"
    assert moved(before, after, response_sum, answer="none") >= 1
    assert moved(before, after, DELIVERIES, outcome="retry") == 1


def test_giving_up_and_disabling_are_counted(receiver, scrape, settings):  # noqa: F811
    tenant = TenantFactory()
    endpoint = endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=500)] * 5
    record(tenant, 7)
    record(tenant, 8)
    receiver.wait_for(2)
    with scopes_disabled():
        WebhookDelivery.objects.filter(tenant=tenant, event__client_id=7).update(
            created_at=timezone.now() - timedelta(hours=25)
        )
    before = scrape()
    dispatch_later(settings.WEBHOOK_RETRY_BASE_SECONDS + 1)
    receiver.wait_for(4)
    middle = scrape()
    assert moved(before, middle, DELIVERIES, outcome="gave_up") == 1  # client 7's, a day old
    assert moved(before, middle, DELIVERIES, outcome="retry") == 1  # client 8's
    assert moved(before, middle, DISABLED) == 0
    with scopes_disabled():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=timezone.now() - timedelta(hours=25)
        )
    dispatch_later(settings.WEBHOOK_RETRY_MAX_SECONDS + 1)
    receiver.wait_for(5)
    after = scrape()
    assert moved(middle, after, DISABLED) == 1
    assert moved(middle, after, DELIVERIES, outcome="retry") == 1  # the try that disabled it
    assert moved(middle, after, DELIVERIES, outcome="endpoint_off") == 1  # its open delivery
    assert moved(middle, after, "clientdesk_webhook_disabled_endpoints") == 1


def test_turning_an_endpoint_off_counts_its_open_deliveries(receiver, scrape):  # noqa: F811
    tenant = TenantFactory()
    endpoint = endpoint_for(tenant, receiver)
    receiver.script = [Answer(status=500)] * 2
    record(tenant, 7)
    record(tenant, 8)
    before = scrape()
    with scopes_disabled():
        webhook_endpoint_update(
            endpoint=endpoint,
            actor=None,
            url=endpoint.url,
            event_types=["client.updated"],
            is_active=False,
        )
    after = scrape()
    assert moved(before, after, DELIVERIES, outcome="endpoint_off") == 2
    # Turned off by an owner, not disabled for failing.
    assert moved(before, after, "clientdesk_webhook_disabled_endpoints") == 0


def delivery(tenant, endpoint, event, **fields):
    with scopes_disabled():
        return WebhookDelivery.objects.create(
            tenant=tenant,
            endpoint=endpoint,
            event=event,
            object_key=f"client:{event.pk}",
            **fields,
        )


def gauges() -> dict:
    return {family.name: family.samples[0].value for family in webhook_backlog_families()}


def backlog(tenant, endpoint, now):
    """Deliveries in every state: 3 pending (2 due, the oldest 2 hours old), the rest not."""
    events = [record(tenant, n) for n in range(6)]
    delivery(
        tenant,
        endpoint,
        events[0],
        created_at=now - timedelta(hours=2),
        next_attempt_at=now - timedelta(minutes=1),
    )
    delivery(
        tenant,
        endpoint,
        events[1],
        created_at=now - timedelta(minutes=5),
        next_attempt_at=now - timedelta(seconds=5),
    )
    delivery(
        tenant,
        endpoint,
        events[2],
        created_at=now - timedelta(minutes=1),
        next_attempt_at=now + timedelta(minutes=10),
    )  # waiting for its retry
    delivery(tenant, endpoint, events[3], status="running", created_at=now - timedelta(days=1))
    delivery(tenant, endpoint, events[4], status="delivered", created_at=now - timedelta(days=2))
    delivery(tenant, endpoint, events[5], status="failed", created_at=now - timedelta(days=3))


def test_the_gauges_read_the_deliveries_as_they_are():
    tenant, other = TenantFactory(), TenantFactory()
    assert gauges() == {
        "clientdesk_webhook_deliveries_pending": 0,
        "clientdesk_webhook_deliveries_due": 0,
        "clientdesk_webhook_oldest_pending_age_seconds": 0,
        "clientdesk_webhook_disabled_endpoints": 0,
    }
    with scopes_disabled():
        # Turned off by an owner (not counted), disabled for failing (counted), active (not).
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant, url="http://127.0.0.1:9/hook", secret_encrypted="", is_active=False
        )
        WebhookEndpoint.objects.create(
            tenant=other,
            url="http://127.0.0.1:9/a",
            secret_encrypted="",
            is_active=False,
            disabled_at=timezone.now(),
            disabled_reason="Every delivery failed for 24 hours.",
        )
        WebhookEndpoint.objects.create(
            tenant=other, url="http://127.0.0.1:9/b", secret_encrypted=""
        )
    now = timezone.now()
    backlog(tenant, endpoint, now)
    read = gauges()
    assert read["clientdesk_webhook_deliveries_pending"] == 3
    assert read["clientdesk_webhook_deliveries_due"] == 2
    assert read["clientdesk_webhook_oldest_pending_age_seconds"] == pytest.approx(7200, abs=30)
    assert read["clientdesk_webhook_disabled_endpoints"] == 1


def test_the_gauges_are_one_statement_whatever_the_backlog(
    scrape,  # noqa: F811
    django_assert_num_queries,
):
    tenant = TenantFactory()
    with scopes_disabled():
        endpoint = WebhookEndpoint.objects.create(
            tenant=tenant, url="http://127.0.0.1:9/hook", secret_encrypted="", is_active=False
        )
    with django_assert_num_queries(1):
        gauges()
    with CaptureQueriesContext(connection) as empty:
        scrape()
    backlog(tenant, endpoint, timezone.now())
    with django_assert_num_queries(1):
        gauges()
    with CaptureQueriesContext(connection) as full:
        scrape()
    assert len(full.captured_queries) == len(empty.captured_queries)


def test_the_statement_reads_indexes_not_the_deliveries_table():
    """With sequential scans priced out, PostgreSQL reads each part through a partial index of
    pending deliveries: a scan of the table would remain in the plan if none served it. (At a
    million deliveries, 20,000 pending, the statement takes about 3 ms; without the age index,
    100-200 ms.)"""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            cursor.execute(f"EXPLAIN {_backlog_statement()}", [timezone.now()])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")
    reads = [line for line in plan.splitlines() if " on events_webhookdelivery" in line]
    assert len(reads) == 3, plan
    partial = ("using webhook_delivery_due_idx", "using webhook_delivery_age_idx")
    assert all(any(index in line for index in partial) for line in reads), plan


COUNT_IN_A_WORKER = """
import django
django.setup()
from events.webhook_metrics import DELIVERIES, webhook_try_observed
DELIVERIES.labels(outcome="delivered").inc()
webhook_try_observed(code=204, seconds=0.2)
"""


def test_worker_processes_counts_are_summed_from_the_metrics_directory(tmp_path):
    """Each worker process writes its own file (multiprocess mode, settings); /metrics adds
    them up."""
    environment = {**os.environ, "DEBUG": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"
    for _worker in range(2):
        subprocess.run(  # noqa: S603 - our interpreter, our code
            [sys.executable, "-c", COUNT_IN_A_WORKER],
            cwd=ROOT,
            env=environment,
            check=True,
            timeout=120,
            capture_output=True,
        )
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # a file per process
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(tmp_path))
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }
    assert sample(samples, DELIVERIES, outcome="delivered") == 2
    assert sample(samples, RESPONSE, answer="2xx") == 2

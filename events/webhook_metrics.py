"""The webhooks' families for /metrics (core/metrics.py says how they are served).

Counted where the work happens, in whichever process sends (prometheus-client's multiprocess
directory sums the workers): each delivery's outcome, the time from an event to its delivery,
and how long receivers take to answer. Read at each scrape, in one statement over the partial
indexes of pending deliveries (never a scan of the deliveries table): what is pending, what is
due and waits for a worker, the age of the oldest pending delivery, and the endpoints disabled
for failing. No label names a tenant, an endpoint or a URL: the label sets stay bounded, and
an endpoint's own figures are on its delivery log.
"""

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from .webhook_models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

DELIVERED = "delivered"
RETRY = "retry"
GAVE_UP = "gave_up"
ENDPOINT_OFF = "endpoint_off"

DELIVERIES = Counter(
    "clientdesk_webhook_deliveries",
    "Webhook deliveries by outcome: a try that delivered (delivered) or failed and is tried "
    "again (retry); a delivery failed after its last try (gave_up) or because its endpoint "
    "was turned off or disabled (endpoint_off).",
    ["outcome"],
)
ENDPOINTS_DISABLED = Counter(
    "clientdesk_webhook_endpoints_disabled",
    "Webhook endpoints disabled after failing for WEBHOOK_DISABLE_AFTER_SECONDS.",
)
LATENCY_SECONDS = Histogram(
    "clientdesk_webhook_delivery_latency_seconds",
    "From an event's time to its delivery's success, however many tries it took (first "
    "deliveries: a redelivery is left out).",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400),
)
RESPONSE_SECONDS = Histogram(
    "clientdesk_webhook_response_duration_seconds",
    "How long each try's POST took, by the receiver's answer (2xx, 3xx, 4xx, 5xx; none: a "
    "timeout, a failed connection or a refused address).",
    ["answer"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def answer_class(code: int | None) -> str:
    return f"{code // 100}xx" if code is not None and 100 <= code < 600 else "none"


def webhook_try_observed(*, code: int | None, seconds: float) -> None:
    RESPONSE_SECONDS.labels(answer=answer_class(code)).observe(seconds)


def webhook_delivered_observed(delivery: WebhookDelivery, now: datetime) -> None:
    """A delivery succeeded; a redelivery's event may be months old, so only a first delivery
    tells how late events reach their receivers."""
    DELIVERIES.labels(outcome=DELIVERED).inc()
    if delivery.redelivery_of_id is None:
        LATENCY_SECONDS.observe(max((now - delivery.event.created_at).total_seconds(), 0.0))


def webhook_outcome_observed(outcome: str, count: int = 1) -> None:
    """Counted after the commit of the change that decided it (a rolled back one counts
    nothing); at once outside a transaction."""
    if count:
        transaction.on_commit(lambda: DELIVERIES.labels(outcome=outcome).inc(count))


def webhook_endpoint_disabled_observed() -> None:
    transaction.on_commit(ENDPOINTS_DISABLED.inc)


def _backlog_statement() -> str:
    deliveries = connection.ops.quote_name(WebhookDelivery._meta.db_table)
    endpoints = connection.ops.quote_name(WebhookEndpoint._meta.db_table)
    pending = f"status = '{DeliveryStatus.PENDING.value}'"
    # Each subquery reads one partial index of pending deliveries (webhook_delivery_due_idx,
    # webhook_delivery_age_idx); the endpoints are a few rows per tenant.
    return (
        f"SELECT (SELECT COUNT(*) FROM {deliveries} WHERE {pending}),"  # noqa: S608
        f" (SELECT COUNT(*) FROM {deliveries} WHERE {pending} AND next_attempt_at <= %s),"
        f" (SELECT MIN(created_at) FROM {deliveries} WHERE {pending}),"
        f" (SELECT COUNT(*) FROM {endpoints} WHERE NOT is_active AND disabled_at IS NOT NULL)"
    )


def _moment(value) -> datetime | None:
    """A timestamp as the raw cursor returns it (SQLite, the demo's: text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def webhook_backlog_families() -> Iterable[Metric]:
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_backlog_statement(), [now])
        pending, due, oldest, disabled = cursor.fetchone()
    oldest = _moment(oldest)
    families = (
        (
            "clientdesk_webhook_deliveries_pending",
            "Webhook deliveries pending, every tenant.",
            pending,
        ),
        (
            "clientdesk_webhook_deliveries_due",
            "Pending webhook deliveries whose try is due and that no worker has taken yet.",
            due,
        ),
        (
            "clientdesk_webhook_oldest_pending_age_seconds",
            "Age of the oldest pending webhook delivery (0: none pending).",
            max((now - oldest).total_seconds(), 0.0) if oldest else 0,
        ),
        (
            "clientdesk_webhook_disabled_endpoints",
            "Webhook endpoints disabled for failing and not turned on again.",
            disabled,
        ),
    )
    for name, documentation, value in families:
        family = GaugeMetricFamily(name, documentation)
        family.add_metric([], value)
        yield family

"""Prometheus metrics: what the processes count, and what is read when Prometheus scrapes.

Requests (counts and latency by view) and database queries are django-prometheus' own
families (its middleware and database backend, config/settings.py). This module adds:

- counted where the work happens, in whichever process does it: Celery tasks by task and
  outcome with their durations (core.logs hears the task signals), router polls by outcome
  (reachable, unreachable) with their durations (routers.poller), webhook deliveries by
  outcome with their latency and the receivers' response times (events/webhook_metrics.py);
- read at scrape time from the database and Redis, so that they are right whichever process
  asks and need no state of their own: the queue's length, beat's last heartbeat, each
  scheduled job's last success (JobRun), and what the apps register with `scrape_register`
  (the export jobs by kind and status, the webhooks' backlog).

Gunicorn workers and Celery's pool are separate processes: with PROMETHEUS_MULTIPROC_DIR set
(the compose file shares one directory between web, worker and beat) prometheus-client writes
each process's figures there and `metrics_text` sums them. Files are named by host and pid
(settings), so containers sharing the directory never write to one file.
"""

import os
from collections.abc import Callable, Iterable

from django.apps import apps
from django.conf import settings
from django.db.models import Max
from django_scopes import scopes_disabled
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from .health import heartbeat_read, redis_client

TASKS = Counter(
    "clientdesk_celery_tasks", "Celery tasks run, by task and outcome.", ["task", "outcome"]
)
TASK_SECONDS = Histogram(
    "clientdesk_celery_task_duration_seconds",
    "How long Celery tasks ran, by task.",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
ROUTER_POLLS = Counter(
    "clientdesk_router_polls", "Router polls, by outcome (reachable, unreachable).", ["outcome"]
)
ROUTER_POLL_SECONDS = Histogram(
    "clientdesk_router_poll_duration_seconds",
    "How long one router's poll took, by outcome.",
    ["outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

_SCRAPED: list[Callable[[], Iterable[Metric]]] = []


def task_observed(task: str, outcome: str, seconds: float) -> None:
    TASKS.labels(task=task, outcome=outcome).inc()
    TASK_SECONDS.labels(task=task).observe(seconds)


def router_poll_observed(*, reachable: bool, seconds: float) -> None:
    outcome = "reachable" if reachable else "unreachable"
    ROUTER_POLLS.labels(outcome=outcome).inc()
    ROUTER_POLL_SECONDS.labels(outcome=outcome).observe(seconds)


def scrape_register(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add families read at each scrape (from an AppConfig.ready()); registering again is a
    no-op."""
    if collect not in _SCRAPED:
        _SCRAPED.append(collect)


def queue_lengths() -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "clientdesk_celery_queue_length", "Messages waiting in the Celery queue.", labels=["queue"]
    )
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        with redis_client(settings.CELERY_BROKER_URL) as client:
            family.add_metric([queue], client.llen(queue))
    yield family


def beat_heartbeat() -> Iterable[Metric]:
    family = GaugeMetricFamily(
        "clientdesk_beat_heartbeat_timestamp_seconds",
        "When the beat that holds the lock last ticked (Unix time; 0: never).",
    )
    family.add_metric([], heartbeat_read() or 0)
    yield family


def job_last_success() -> Iterable[Metric]:
    job_run = apps.get_model("core", "JobRun")
    family = GaugeMetricFamily(
        "clientdesk_job_last_success_timestamp_seconds",
        "When each scheduled job last finished without error, any tenant (Unix time).",
        labels=["job"],
    )
    with scopes_disabled():
        rows = (
            job_run.objects.filter(status="ok")
            .values("job")
            .annotate(last=Max("finished_at"))
            .order_by("job")
        )
        for row in rows:
            family.add_metric([row["job"]], row["last"].timestamp() if row["last"] else 0)
    yield family


class ScrapeCollector:
    """The families read at scrape time (module doc)."""

    def collect(self) -> Iterable[Metric]:
        yield from queue_lengths()
        yield from beat_heartbeat()
        yield from job_last_success()
        for collect in _SCRAPED:
            yield from collect()


def metrics_registry() -> CollectorRegistry:
    """Every process's figures (multiprocess mode) or this process's, and the scraped ones."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessCollector())
    registry.register(ScrapeCollector())
    return registry


class _ProcessCollector:
    """This process's registry, when there is no multiprocess directory (development)."""

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()


def metrics_text() -> tuple[bytes, str]:
    return generate_latest(metrics_registry()), CONTENT_TYPE_LATEST

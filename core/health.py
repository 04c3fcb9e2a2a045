"""What /health/ready reports: can this deployment do its work now?

Each check answers ok or not, with at most the kind of error: never a message, an address, a
URL (it may carry a password) or a tenant. Ready fails when the database, Redis or the broker
cannot be reached, when migrations are not all applied, or when beat has not ticked within
BEAT_HEARTBEAT_MAX_AGE. The age of each scheduled job's last run and last success (any
tenant) is reported, and flagged when older than HEALTH_JOB_MAX_AGE, but does not fail
readiness: a late job is for an alert, and taking web out of the proxy would not make it run.
"""

import logging
import time
from contextlib import contextmanager

import redis
from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Max, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from .jobs import jobs_registered

logger = logging.getLogger(__name__)
_migrations_applied = False  # once true, true for this process's code


def redis_url() -> str:
    """The Redis of the deployment (beat's lock and heartbeat), '' without one."""
    broker = settings.CELERY_BROKER_URL
    return settings.REDIS_URL or (broker if broker.startswith(("redis://", "rediss://")) else "")


def redis_connect(url: str, timeout: float = 2.0) -> redis.Redis:
    """A client that gives up after `timeout` seconds, rather than hang a probe or a tick."""
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


@contextmanager
def redis_client(url: str, timeout: float = 2.0):
    client = redis_connect(url, timeout)
    try:
        yield client
    finally:
        client.close()


def heartbeat_read() -> float | None:
    """When the beat that holds the lock last ticked (Unix time; core.beat writes it), None
    when never or without Redis."""
    url = redis_url()
    if not url:
        return None
    with redis_client(url) as client:
        value = client.get(settings.BEAT_HEARTBEAT_KEY)
    return float(value) if value else None


def _failed(name: str, error: Exception) -> dict:
    logger.warning("Health check %s failed: %s", name, type(error).__name__)
    return {"ok": False, "error": type(error).__name__}


def check_database(connection=None) -> dict:
    connection = connection or connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure to answer is "not ready"
        return _failed("database", error)
    return {"ok": True}


def check_migrations(connection=None) -> dict:
    global _migrations_applied
    if _migrations_applied:
        return {"ok": True}
    connection = connection or connections[DEFAULT_DB_ALIAS]
    try:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as error:  # the database is down: the database check says so
        return _failed("migrations", error)
    _migrations_applied = not unapplied
    return {"ok": _migrations_applied, "unapplied": len(unapplied)}


def check_redis_at(url: str, name: str) -> dict:
    if not url.startswith(("redis://", "rediss://")):
        return {"ok": True, "configured": False}
    try:
        with redis_client(url) as client:
            client.ping()
    except Exception as error:  # refused, timed out, bad password: not ready
        return _failed(name, error)
    return {"ok": True}


def check_broker() -> dict:
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        return check_redis_at(url, "broker")
    from config.celery import app  # the project's Celery app, loaded with the worker's config

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:  # the embedded broker cannot be opened
        return _failed("broker", error)
    return {"ok": True}


def check_beat() -> dict:
    """The lock holder's last tick, younger than BEAT_HEARTBEAT_MAX_AGE."""
    if not redis_url():
        return {"ok": True, "configured": False}
    try:
        beat = heartbeat_read()
    except Exception as error:  # Redis is down: the redis check says so too
        return _failed("beat", error)
    if beat is None:
        return {"ok": False, "age_seconds": None}
    age = round(max(0.0, time.time() - beat), 1)
    return {"ok": age <= settings.BEAT_HEARTBEAT_MAX_AGE, "age_seconds": age}


def jobs_ages() -> dict:
    """Each registered job's last run and last success, any tenant, in seconds ago."""
    job_run = apps.get_model("core", "JobRun")
    now = timezone.now()
    with scopes_disabled():
        rows = {
            row["job"]: row
            for row in job_run.objects.values("job")
            .annotate(run=Max("started_at"), success=Max("finished_at", filter=Q(status="ok")))
            .order_by("job")
        }

    def age(moment):
        return None if moment is None else round((now - moment).total_seconds(), 1)

    ages = {}
    for job in jobs_registered():
        row = rows.get(job.name, {})
        success = age(row.get("success"))
        ages[job.name] = {
            "last_run_age_seconds": age(row.get("run")),
            "last_success_age_seconds": success,
            "stale": success is None or success > settings.HEALTH_JOB_MAX_AGE,
        }
    return ages


def readiness() -> tuple[bool, dict]:
    checks = {
        "database": check_database(),
        "migrations": None,
        "redis": check_redis_at(settings.REDIS_URL, "redis"),
        "broker": check_broker(),
        "beat": check_beat(),
    }
    database_up = checks["database"]["ok"]
    checks["migrations"] = check_migrations() if database_up else {"ok": False}
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if ready else "fail", "checks": checks}
    if database_up:
        body["jobs"] = jobs_ages()
    return ready, body

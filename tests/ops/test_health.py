"""/health/live answers whenever the process does; /health/ready fails when PostgreSQL, Redis
or the broker cannot be reached or beat has not ticked, and reports the jobs' ages. Neither
needs a login, and neither says a secret, an address or a tenant."""

import json
import time

import pytest
from django.db import connections

from core import health
from core.jobs import job_run, jobs_registered
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def beat_ticked(run_redis, settings):
    run_redis.set(settings.BEAT_HEARTBEAT_KEY, f"{time.time():.3f}")
    return run_redis


def ready(client):
    response = client.get("/health/ready")
    return response.status_code, json.loads(response.content)


def test_live_answers_without_a_login_or_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")
    assert response.status_code == 200 and json.loads(response.content) == {"status": "ok"}


def test_ready_when_everything_answers(client, beat_ticked, settings):
    tenant = TenantFactory(name="Secret Provider Name")
    job = jobs_registered()[0]
    job_run(tenant=tenant, job=job.name)
    status, body = ready(client)
    assert status == 200, body
    assert body["status"] == "ok"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database",
        "migrations",
        "redis",
        "broker",
        "beat",
    }
    assert body["checks"]["beat"]["age_seconds"] < 5
    assert body["jobs"][job.name]["last_success_age_seconds"] < 60
    assert set(body["jobs"]) == {j.name for j in jobs_registered()}
    text = json.dumps(body)
    assert "Secret Provider Name" not in text and settings.SECRET_KEY not in text


def test_ready_fails_when_beat_has_not_ticked(client, run_redis, settings):
    status, body = ready(client)
    assert status == 503 and body["checks"]["beat"] == {"ok": False, "age_seconds": None}
    run_redis.set(settings.BEAT_HEARTBEAT_KEY, f"{time.time() - 3600:.3f}")
    status, body = ready(client)
    assert status == 503 and body["checks"]["beat"]["ok"] is False
    assert body["checks"]["beat"]["age_seconds"] > 3000


def test_ready_fails_when_redis_is_down_and_live_does_not(
    client, beat_ticked, settings, closed_port
):
    settings.REDIS_URL = settings.CELERY_BROKER_URL = (
        f"redis://:a-redis-password@127.0.0.1:{closed_port}/0"
    )
    status, body = ready(client)
    assert status == 503
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["beat"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert "a-redis-password" not in json.dumps(body) and str(closed_port) not in json.dumps(body)
    assert client.get("/health/live").status_code == 200


def test_ready_fails_when_postgresql_is_down(client, beat_ticked, monkeypatch, closed_port):
    """The database's settings pointed at a closed local port."""
    default = connections["default"]
    down = type(default)(
        {**default.settings_dict, "PORT": closed_port, "PASSWORD": "a-db-password"}, "down"
    )
    monkeypatch.setattr(health, "connections", {"default": down})
    monkeypatch.setattr(health, "_migrations_applied", False)
    try:
        status, body = ready(client)
    finally:
        down.close()
    assert status == 503
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["migrations"] == {"ok": False}
    assert body["checks"]["redis"]["ok"] is True
    assert "jobs" not in body and "a-db-password" not in json.dumps(body)
    assert client.get("/health/live").status_code == 200


def test_ready_fails_while_migrations_are_unapplied(client, beat_ticked, monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(
        health.MigrationExecutor, "migration_plan", lambda self, targets: [("core", False)]
    )
    status, body = ready(client)
    assert status == 503 and body["checks"]["migrations"] == {"ok": False, "unapplied": 1}

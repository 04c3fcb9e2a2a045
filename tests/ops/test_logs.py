"""Logs: a request and a task each write one JSON line with who, what and how long; LOG_FORMAT
switches to text; a login, a router save and an API token never log their secrets, whatever
the level."""

import json
import logging
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from pythonjsonlogger.json import JsonFormatter

from core.tasks import leases_sweep
from tests.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db


def json_line(record: logging.LogRecord) -> dict:
    """The record as the production handler writes it (settings' json formatter)."""
    options = {k: v for k, v in settings.LOGGING["formatters"]["json"].items() if k != "()"}
    line = JsonFormatter(**options).format(record)
    assert "\n" not in line
    return json.loads(line)


def every_line(records) -> str:
    """Every record as both formatters write it."""
    text = logging.Formatter(settings.LOGGING["formatters"]["text"]["format"])
    return "\n".join(
        f"{json.dumps(json_line(record))}\n{text.format(record)}" for record in records
    )


@pytest.fixture
def logs(caplog):
    """Every record at every level, the SQL with its parameters too."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("django.db.backends").setLevel(logging.DEBUG)
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = False
    logging.getLogger("django.db.backends").setLevel(logging.WARNING)


def test_a_request_writes_one_json_line(client, owner, tenant, caplog):
    caplog.set_level(logging.INFO, logger="clientdesk.request")
    response = client.get(reverse("clients:client_list"), headers={"X-Request-ID": "proxy-id-1234"})
    lines = [json_line(r) for r in caplog.records if r.name == "clientdesk.request"]
    assert len(lines) == 1
    line = lines[0]
    assert response["X-Request-ID"] == "proxy-id-1234" == line["request_id"]
    assert line["event"] == "request" and line["level"] == "INFO" and line["time"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/clients/", 200)
    assert line["view"] == "clients:client_list"
    assert (line["tenant"], line["operator"]) == (tenant.pk, owner.user.pk)
    assert line["duration_ms"] > 0


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger="clientdesk.request")
    response = client.get("/health/live", headers={"X-Request-ID": "plain-token-1\n"})
    line = json_line(next(r for r in caplog.records if r.name == "clientdesk.request"))
    assert response["X-Request-ID"] == line["request_id"] and len(line["request_id"]) == 32
    assert (line["tenant"], line["operator"], line["view"]) == (None, None, "health_live")


def test_a_task_writes_one_json_line(caplog):
    caplog.set_level(logging.INFO, logger="clientdesk.task")
    result = leases_sweep.apply()
    lines = [json_line(r) for r in caplog.records if r.name == "clientdesk.task"]
    assert len(lines) == 1
    line = lines[0]
    assert line["event"] == "task" and line["task"] == "core.tasks.leases_sweep"
    assert line["task_id"] == result.id == line["request_id"]
    assert line["outcome"] == "success" and line["duration_ms"] >= 0


def test_log_format_text_is_a_plain_line():
    code = (
        "from django.conf import settings; import django; django.setup(); "
        "import logging; logging.getLogger('clientdesk.request').info('hello %s', 'there')"
    )
    env = {"DEBUG": "0", "SECRET_KEY": "k" * 50, "ROUTER_SECRET_KEY": ROUTER_KEY}
    done = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", code],
        env={**subprocess_env(), **env, "LOG_FORMAT": "text"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # JSON is the production default: the smoke test reads every line web writes as JSON.
    assert done.stderr.rstrip().endswith("clientdesk.request [] hello there"), done.stderr


ROUTER_KEY = "pLBrb0cBfM8y3hYbq9E7RkX4Lw2nEQUGjP1aL0W9OWs="


def subprocess_env() -> dict:
    keep = ("PATH", "HOME", "DATABASE_URL", "REDIS_URL", "CACHE_KEY_PREFIX")
    return {k: os.environ[k] for k in keep if k in os.environ} | {
        "DJANGO_SETTINGS_MODULE": "config.settings"
    }


def test_a_login_never_logs_its_password(client, logs):
    secret = "Login-Pass-Never-Logged-77"
    membership = MembershipFactory(tenant=TenantFactory())
    membership.user.set_password(secret)
    membership.user.save()
    client.post(reverse("login"), {"username": membership.user.username, "password": "wrong-1"})
    response = client.post(
        reverse("login"), {"username": membership.user.username, "password": secret}
    )
    assert response.status_code == 302
    assert logs.records
    written = every_line(logs.records)
    assert secret not in written and "wrong-1" not in written


def test_a_router_save_never_logs_its_password(client, owner, logs):
    secret = "Router-Api-Secret-Never-Logged"
    data = {
        "name": "Core 1",
        "host": "127.0.0.1",
        "port": "8728",
        "username": "api",
        "password": secret,
        "timeout": "5",
        "enabled": "on",
    }
    assert client.post(reverse("routers:router_create"), data).status_code == 302
    assert any(r.name == "django.db.backends" for r in logs.records)  # the SQL was logged
    assert secret not in every_line(logs.records)


def test_a_scrape_never_logs_the_metrics_token(client, settings, logs):
    settings.METRICS_TOKEN = "Metrics-Token-Never-Logged-31"
    response = client.get("/metrics", headers={"Authorization": f"Bearer {settings.METRICS_TOKEN}"})
    assert response.status_code == 200
    assert any(r.name == "clientdesk.request" for r in logs.records)
    assert settings.METRICS_TOKEN not in every_line(logs.records)


def test_an_api_token_is_never_logged_when_made_or_used(client, owner, logs):
    response = client.post(
        reverse("tenancy:api_token_create"),
        {"name": "Payment gateway", "scope": "accountant", "expires_on": ""},
    )
    assert response.status_code == 201
    secret = response.context["issued"].secret
    client.logout()
    used = client.get("/api/v1/clients/", headers={"Authorization": f"Bearer {secret}"})
    assert used.status_code == 200
    assert any(r.name == "clientdesk.request" for r in logs.records)
    written = every_line(logs.records)
    assert secret not in written and secret[-12:] not in written

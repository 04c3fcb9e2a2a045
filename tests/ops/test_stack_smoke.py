"""The stack smoke test: the compose services' own commands (migrate, gunicorn, the worker, beat;
read from docker-compose.yml) run as processes on loopback against a database of their own and
the machine's Redis, with production settings (DEBUG=0, HTTPS behind a proxy). It waits for
/health/ready, logs in through the proxy's headers, exports a client's transactions through
the worker and polls a router (the simulator, over TCP on 127.0.0.1) from the Routers page, reads
/metrics across the processes, and stops them all."""

import io
import json
import re
import sys

import pytest
from openpyxl import load_workbook
from prometheus_client.parser import text_string_to_metric_families

from routers.simulator import SimulatedRouter
from tests.factories import ROUTER_TEST_PASSWORD, TEST_PASSWORD
from tests.ops.stack import METRICS_TOKEN, Browser, Stack, wait_until

SEED = """
import json
from tests.factories import (MembershipFactory, TenantFactory, ClientFactory, make_account,
    RouterFactory, PppoeAccountFactory)
tenant = TenantFactory(name="Smoke Provider", slug="smoke")
owner = MembershipFactory(tenant=tenant, user__username="smoke-owner")
customer = ClientFactory(tenant=tenant, name="Smoke Customer")
make_account(customer, balance="25.00")
router = RouterFactory(tenant=tenant, name="Smoke Router", host="127.0.0.1", port={port})
PppoeAccountFactory(tenant=tenant, client=customer, router=router, username="smoke-ppp")
print(json.dumps({{"client": customer.number, "router": router.pk}}))
"""


@pytest.fixture
def stack(tmp_path):
    stack = Stack(tmp_path)
    stack.create_database()
    try:
        yield stack
    finally:
        codes = stack.stop()
        stack.forget_redis()
        stack.drop_database()
        for name in stack.processes:
            print(f"--- {name} (exit {codes.get(name)})\n{stack.log(name)[-4000:]}")


@pytest.fixture
def router():
    with SimulatedRouter(password=ROUTER_TEST_PASSWORD) as sim:
        sim.connect_session("smoke-ppp")
        yield sim


def scrape(browser: Browser) -> dict:
    response, content = browser.get(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert response.status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(content.decode())
        for s in family.samples
    }


def release(stack: Stack, router: SimulatedRouter) -> dict:
    """migrate (the one-shot service) and, beside it, the static files the image's build
    collects; then a tenant with an owner, a client with money and a router account."""
    stack.start("migrate")
    stack.run([sys.executable, "manage.py", "collectstatic", "--noinput"], "collectstatic")
    assert stack.processes["migrate"].wait(timeout=120) == 0, stack.log("migrate")
    seed = [sys.executable, "manage.py", "shell", "-c", SEED.format(port=router.port)]
    return json.loads(stack.run(seed, "seed").strip().splitlines()[-1])


def wait_ready(browser: Browser) -> dict:
    def ready():
        status, body = browser.json("/health/ready")
        return status == 200 and body

    return wait_until(ready, 30, "/health/ready")


def log_in(browser: Browser) -> None:
    """Plain HTTP is sent to HTTPS; through the proxy's header the login form works, and the
    session cookie is for HTTPS only."""
    response, _ = browser.get("/login/", https=False)
    assert response.status == 301 and response.headers["Location"] == "https://portal.test/login/"
    response, _ = browser.get("/login/")
    assert response.status == 200 and "csrftoken" in browser.cookies
    response, page = browser.post("/login/", {"username": "smoke-owner", "password": TEST_PASSWORD})
    assert response.status == 302 and response.headers["Location"] == "/", page[:300]
    session = next(c for c in browser.set_cookies if c.startswith("sessionid="))
    assert "Secure" in session and "HttpOnly" in session
    response, _ = browser.get("/clients/")
    assert response.status == 200 and response.headers["Strict-Transport-Security"]


def export_transactions(browser: Browser, client_number: int) -> list:
    """The Finance tab's export, run by the worker, downloaded from the Exports page."""
    response, _ = browser.post(f"/billing/clients/{client_number}/export/", {})
    assert response.status == 302 and response.headers["Location"] == "/exports/"

    def downloadable():
        _, page = browser.get("/exports/")
        found = re.search(rb'href="(/exports/\d+/download/)"', page)
        return found and found.group(1).decode()

    response, content = browser.get(wait_until(downloadable, 30, "the export is done"))
    assert response.status == 200
    return list(load_workbook(io.BytesIO(content), read_only=True).active.values)


def tasks_done(samples: dict, task_part: str) -> float:
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "clientdesk_celery_tasks_total"
        and ("outcome", "success") in labels
        and task_part in dict(labels)["task"]
    )


def test_the_stack_runs_as_compose_runs_it(stack, router):
    seeded = release(stack, router)
    for name in ("web", "worker", "beat"):
        stack.start(name)
    browser = Browser(wait_until(stack.web_port, 30, "gunicorn listens"))
    body = wait_ready(browser)
    assert body["checks"]["beat"]["ok"] and body["checks"]["migrations"]["ok"]
    assert "Smoke Provider" not in json.dumps(body)
    assert browser.json("/health/live", https=False) == (200, {"status": "ok"})

    log_in(browser)
    rows = export_transactions(browser, seeded["client"])
    assert any("Opening balance" in str(row) for row in rows), rows
    response, _ = browser.post(f"/routers/{seeded['router']}/poll/", {})  # over TCP to the sim
    assert response.status == 302
    assert stack.query("SELECT status FROM routers_pppoeaccount") == [("online",)]

    # Metrics of every process: web's requests, the worker's task, the poll.
    samples = scrape(browser)
    assert tasks_done(samples, "export") == 1
    assert samples[("clientdesk_router_polls_total", (("outcome", "reachable"),))] == 1
    login = (("method", "POST"), ("view", "login"))
    assert samples[("django_http_requests_latency_seconds_by_view_method_count", login)] == 1
    assert samples[("clientdesk_celery_queue_length", (("queue", stack.queue),))] >= 0

    # Every line web writes is JSON; one a request; no password in any log.
    lines = [json.loads(line) for line in stack.log("web").splitlines()]
    logged = [line for line in lines if line.get("event") == "request" and line["view"] == "login"]
    assert sorted(line["status"] for line in logged) == [200, 302]
    assert TEST_PASSWORD not in stack.log("web") + stack.log("worker")

    codes = stack.stop()
    assert codes["web"] == 0 and codes["beat"] == 0, codes

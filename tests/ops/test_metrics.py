"""/metrics: Prometheus' text format for a scraper with the token (or from an allowed
network), a 404 for anyone else; the families exist and move when a request, a task, a router
poll and an export happen."""

import pytest
from django.urls import reverse

from core.jobs import job_run, jobs_registered
from core.tasks import leases_sweep
from routers.poller import poll_routers
from routers.simulator import SimulatedRouter
from tests.factories import ROUTER_TEST_PASSWORD, RouterFactory
from tests.helpers import ledger_export_create
from tests.ops.conftest import family_names, sample

pytestmark = pytest.mark.django_db

FAMILIES = {
    "django_http_requests_total_by_view_transport_method_total",
    "django_http_requests_latency_seconds_by_view_method_count",
    "django_http_responses_total_by_status_view_method_total",
    "django_db_execute_total",
    "clientdesk_celery_tasks_total",
    "clientdesk_celery_task_duration_seconds_count",
    "clientdesk_celery_queue_length",
    "clientdesk_beat_heartbeat_timestamp_seconds",
    "clientdesk_job_last_success_timestamp_seconds",
    "clientdesk_router_polls_total",
    "clientdesk_router_poll_duration_seconds_count",
    "clientdesk_export_jobs",
}


def test_metrics_refuse_without_the_token_or_network(client, settings):
    settings.METRICS_TOKEN = "the-right-token"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", headers={"Authorization": "the-right-token"}).status_code == 404
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 404
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_metrics_network_rule_ignores_what_the_proxy_forwards(client, settings, header):
    """Behind the proxy every visitor arrives from the proxy's address: only the token counts."""
    settings.METRICS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.METRICS_TOKEN = "the-right-token"
    forwarded = {header: "for=127.0.0.9" if header == "Forwarded" else "127.0.0.9"}
    assert client.get("/metrics", headers=forwarded).status_code == 404
    with_token = {**forwarded, "Authorization": "Bearer the-right-token"}
    assert client.get("/metrics", headers=with_token).status_code == 200


def test_families_move_with_a_request_a_task_a_poll_and_an_export(
    client, scrape, owner, tenant, closed_port
):
    view = "clients:client_list"
    before = scrape()
    assert client.get(reverse(view)).status_code == 200
    leases_sweep.apply()
    with SimulatedRouter(password=ROUTER_TEST_PASSWORD) as sim:
        RouterFactory(tenant=tenant, host=sim.host, port=sim.port)
        RouterFactory(tenant=tenant, port=closed_port)
        assert poll_routers().polled == 2
    ledger_export_create(owner.user, owner_client(tenant))
    job = jobs_registered()[0].name
    job_run(tenant=tenant, job=job)
    after = scrape()

    assert family_names(after) >= FAMILIES, FAMILIES - family_names(after)

    def moved(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    requests = "django_http_requests_latency_seconds_by_view_method_count"
    assert moved(requests, view=view, method="GET") == 1
    assert moved("django_db_execute_total", alias="default", vendor="postgresql") > 0
    task = "core.tasks.leases_sweep"
    assert moved("clientdesk_celery_tasks_total", task=task, outcome="success") == 1
    assert moved("clientdesk_celery_task_duration_seconds_count", task=task) == 1
    assert moved("clientdesk_router_polls_total", outcome="reachable") == 1
    assert moved("clientdesk_router_polls_total", outcome="unreachable") == 1
    assert moved("clientdesk_router_poll_duration_seconds_count", outcome="reachable") == 1
    assert moved("clientdesk_export_jobs", kind="billing.ledger", status="queued") == 1
    assert sample(after, "clientdesk_job_last_success_timestamp_seconds", job=job) > 0


def test_a_failing_task_is_counted_as_a_failure(scrape, monkeypatch):
    def broken():
        raise RuntimeError("sweep broke")

    monkeypatch.setattr("core.leases.leases_sweep", broken)
    before = scrape()
    leases_sweep.apply()
    after = scrape()
    labels = {"task": "core.tasks.leases_sweep", "outcome": "failure"}
    assert (
        sample(after, "clientdesk_celery_tasks_total", **labels)
        - sample(before, "clientdesk_celery_tasks_total", **labels)
        == 1
    )


def owner_client(tenant):
    from tests.factories import ClientFactory, make_account

    customer = ClientFactory(tenant=tenant)
    make_account(customer, balance="10.00")
    return customer

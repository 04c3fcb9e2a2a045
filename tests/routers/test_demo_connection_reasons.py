"""The demo shows each reason a connection status is unavailable: seeded as `make demo` seeds
it, its routers simulated as `run_router_simulator --from-db` serves them, and one poll."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_scopes import scopes_disabled

from routers import demo
from routers.management.commands.run_router_simulator import Command as SimulatorCommand
from routers.models import ConnectionStatus, PollErrorKind, PppoeAccount, Router
from routers.poller import poll_routers
from tests.seeded_demo import move_simulated_routers_to_free_ports

pytestmark = pytest.mark.django_db

REASONS = {
    demo.UNREACHABLE_ROUTER: "The MikroTik server is offline",
    demo.STALLED_ROUTER: "There’s a network connectivity issue",
}
NEVER = "The client has never connected"


@pytest.fixture
def polled_demo(seeded_demo):
    tenant = seeded_demo.restore()["isp"]
    move_simulated_routers_to_free_ports(tenant)
    with scopes_disabled():
        # The stalled router's wait, shortened for the test (3 s in the demo).
        Router.objects.filter(tenant=tenant, name=demo.STALLED_ROUTER).update(timeout=0.5)
    sims = SimulatorCommand(stdout=StringIO(), stderr=StringIO()).from_db(
        {"online": 0.7, "host": "127.0.0.1"}
    )
    try:
        poll_routers(deadline_seconds=10)
    finally:
        for sim in sims:
            sim.stop()
    return tenant


def test_one_poll_of_the_demo_shows_each_reason(client, polled_demo):
    with scopes_disabled():
        routers = {r.name: r for r in Router.objects.filter(tenant=polled_demo)}
        accounts = list(PppoeAccount.objects.filter(tenant=polled_demo).select_related("client"))
    assert routers[demo.UNREACHABLE_ROUTER].last_error_kind == PollErrorKind.OFFLINE
    assert routers[demo.STALLED_ROUTER].last_error_kind == PollErrorKind.TIMEOUT
    for name in demo.LIVE_ROUTERS:
        assert routers[name].is_reachable is True, routers[name].last_error
    statuses = {(a.router_id, a.status) for a in accounts}
    for name in demo.LIVE_ROUTERS:
        live = routers[name].pk
        assert {(live, s) for s in ConnectionStatus.values} <= statuses, name  # all three
    never = [a for a in accounts if a.status == ConnectionStatus.UNKNOWN and not a.last_seen_at]
    assert never and all(a.router.name in demo.LIVE_ROUTERS for a in never)

    client.force_login(get_user_model().objects.get(username="isp-owner"))
    examples = {
        reason: next(a for a in accounts if a.router_id == routers[name].pk)
        for name, reason in REASONS.items()
    }
    examples[NEVER] = never[0]
    for reason, account in examples.items():
        url = reverse("clients:client_detail", kwargs={"number": account.client.number})
        body = client.get(url).content.decode()
        assert f"Connection status unavailable: {reason}" in body, (reason, account.username)

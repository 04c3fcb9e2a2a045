"""The poller against simulated routers over TCP."""

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from routers.models import ConnectionStatus, PollErrorKind, PppoeAccount, Router
from routers.poller import poll_routers
from tests.factories import ClientFactory, PppoeAccountFactory

pytestmark = pytest.mark.django_db


def accounts_by_name():
    with scopes_disabled():
        return {a.username: a for a in PppoeAccount.objects.all()}


def reload(router):
    with scopes_disabled():
        return Router.objects.get(pk=router.pk)


def make_accounts(router, names, **kwargs):
    return [
        PppoeAccountFactory(tenant=router.tenant, router=router, username=name, **kwargs)
        for name in names
    ]


def test_online_and_offline(sim, router_for):
    router = router_for(sim)
    make_accounts(router, ["alice", "bob", "carol"])
    for name in ("alice", "bob", "carol"):
        sim.add_secret(name, "x", comment="")
    sim.connect_session("alice", address="10.9.0.5", caller_id="AA:BB:CC:00:11:22")
    report = poll_routers()
    assert report.polled == 1 and report.reachable == 1
    accounts = accounts_by_name()
    alice = accounts["alice"]
    assert alice.status == ConnectionStatus.ONLINE
    assert alice.address == "10.9.0.5" and alice.caller_id == "AA:BB:CC:00:11:22"
    assert alice.uptime.endswith("s") and alice.last_seen_at and alice.checked_at
    # Never seen online: not Offline as if it had left, but unavailable (never connected).
    assert accounts["bob"].status == ConnectionStatus.UNKNOWN
    assert accounts["bob"].last_seen_at is None and accounts["bob"].checked_at
    router = reload(router)
    assert router.is_reachable is True and router.sessions_online == 1
    assert str(router.last_error) == "" and router.identity == "sim-0"
    assert router.version.startswith("7.")


def test_sessions_appear_and_leave_between_polls(sim, router_for):
    router = router_for(sim)
    make_accounts(router, ["alice", "bob"])
    sim.connect_session("alice")
    poll_routers()
    first_seen = accounts_by_name()["alice"].last_seen_at
    sim.disconnect_session("alice")
    sim.connect_session("bob", address="10.0.0.9")
    poll_routers()
    accounts = accounts_by_name()
    assert accounts["alice"].status == ConnectionStatus.OFFLINE
    assert accounts["alice"].address == ""
    assert accounts["alice"].last_seen_at == first_seen  # last seen stays
    assert accounts["bob"].status == ConnectionStatus.ONLINE
    assert accounts["bob"].address == "10.0.0.9"


def test_unreachable_port_sets_unknown_and_records_the_error(router_for, closed_port, sim):
    sim.stop()
    router = router_for(sim, port=closed_port)
    make_accounts(router, ["alice"])
    report = poll_routers()
    assert report.reachable == 0
    assert accounts_by_name()["alice"].status == ConnectionStatus.UNKNOWN
    router = reload(router)
    assert router.is_reachable is False
    assert router.last_error_kind == PollErrorKind.OFFLINE
    assert "refused the connection" in str(router.last_error)
    assert router.sessions_online is None


def test_wrong_credentials(sim, router_for):
    router = router_for(sim, password="not-the-password")
    make_accounts(router, ["alice"])
    sim.connect_session("alice")
    poll_routers()
    assert accounts_by_name()["alice"].status == ConnectionStatus.UNKNOWN
    router = reload(router)
    assert router.last_error_kind == PollErrorKind.LOGIN
    assert "wrong username or password" in str(router.last_error)
    assert "not-the-password" not in str(router.last_error)


def test_login_refused_by_the_router(sim, router_for):
    sim.reject_logins = True
    router = router_for(sim)
    poll_routers()
    assert reload(router).last_error_kind == PollErrorKind.LOGIN


@pytest.mark.parametrize(
    "knob, kind",
    [("malformed", PollErrorKind.PROTOCOL), ("drop_connections", PollErrorKind.NETWORK)],
)
def test_garbage_or_dropped_connection(sim, router_for, knob, kind):
    setattr(sim, knob, True)
    router = router_for(sim)
    make_accounts(router, ["alice"])
    sim.connect_session("alice")
    poll_routers()
    assert accounts_by_name()["alice"].status == ConnectionStatus.UNKNOWN
    router = reload(router)
    assert router.is_reachable is False and router.last_error_kind == kind


def test_hanging_router_times_out_while_others_finish(simulators, router_for):
    hung, slow, fine = simulators(3)
    hung.hang = "command"  # logs in, then never answers
    slow.latency = 0.2
    routers = [router_for(s, timeout=0.5) for s in (hung, slow, fine)]
    for router, sim in zip(routers, (hung, slow, fine), strict=True):
        make_accounts(router, [f"user-{router.pk}"])
        sim.connect_session(f"user-{router.pk}")
    started = time.monotonic()
    poll_routers(deadline_seconds=5)
    elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed  # the 0.5 s timeout held, not the 5 s deadline
    states = {r.pk: reload(r) for r in routers}
    assert states[routers[0].pk].last_error_kind == PollErrorKind.TIMEOUT
    assert states[routers[1].pk].is_reachable is True
    assert states[routers[2].pk].is_reachable is True
    accounts = accounts_by_name()
    assert accounts[f"user-{routers[0].pk}"].status == ConnectionStatus.UNKNOWN
    assert accounts[f"user-{routers[2].pk}"].status == ConnectionStatus.ONLINE


def test_overall_deadline_cuts_a_router_that_trickles(simulators, router_for):
    """Each reply arrives within the socket timeout, but the router as a whole is too slow:
    the cycle's deadline stops it and the other router is still written."""
    trickling, fine = simulators(2)
    trickling.latency = 0.4
    slow_router = router_for(trickling, timeout=1.0)
    fast_router = router_for(fine, timeout=1.0)
    make_accounts(slow_router, ["slow"])
    make_accounts(fast_router, ["fast"])
    fine.connect_session("fast")
    started = time.monotonic()
    poll_routers(deadline_seconds=0.6)
    assert time.monotonic() - started < 3
    assert reload(slow_router).last_error_kind == PollErrorKind.TIMEOUT
    assert reload(fast_router).is_reachable is True
    assert accounts_by_name()["fast"].status == ConnectionStatus.ONLINE


def test_statements_per_router_are_bounded(simulators, router_for):
    """The same number of SQL statements for 3 and for 60 accounts a router."""

    def statements(count, sim):
        router = router_for(sim)
        make_accounts(router, [f"r{router.pk}-{i}" for i in range(count)])
        for i in range(0, count, 2):
            sim.connect_session(f"r{router.pk}-{i}")
        poll_routers([router.pk])  # first poll: full audit
        with CaptureQueriesContext(connection) as ctx:
            poll_routers([router.pk])
        return len(ctx.captured_queries)

    small, large = simulators(2)
    assert statements(3, small) == statements(60, large) <= 12


def test_running_twice_gives_the_same_state(sim, router_for):
    router = router_for(sim)
    make_accounts(router, ["alice", "bob"])
    sim.connect_session("alice")
    poll_routers()
    fields = ("username", "status", "address", "caller_id", "enabled", "sync_state")
    with scopes_disabled():
        first = list(PppoeAccount.objects.order_by("pk").values_list(*fields))
    poll_routers()
    with scopes_disabled():
        second = list(PppoeAccount.objects.order_by("pk").values_list(*fields))
    assert first == second


@pytest.mark.django_db(transaction=True)
def test_concurrent_polls_skip_a_router_already_being_polled(sim, router_for):
    """Two cycles at once: the router is polled by one, skipped by the other, and the state
    is what one poll gives."""
    sim.latency = 0.3
    router = router_for(sim)
    make_accounts(router, ["alice", "bob"])
    sim.connect_session("alice")
    reports = []

    def run():
        try:
            reports.append(poll_routers())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.polled for r in reports) == [0, 1]
    assert sorted(len(r.skipped) for r in reports) == [0, 1]
    accounts = accounts_by_name()
    assert accounts["alice"].status == ConnectionStatus.ONLINE
    assert accounts["bob"].status == ConnectionStatus.UNKNOWN  # never connected


def test_disabled_routers_and_tenants_without_routers_are_not_polled(sim, router_for, tenant):
    router = router_for(sim, enabled=False)
    make_accounts(router, ["alice"])
    assert poll_routers().polled == 0
    assert sim.logins == 0
    assert accounts_by_name()["alice"].status == ConnectionStatus.UNKNOWN


def test_a_session_without_account_is_ignored(sim, router_for):
    router = router_for(sim)
    make_accounts(router, ["alice"])
    sim.connect_session("stranger")
    poll_routers()
    assert reload(router).sessions_online == 1
    assert accounts_by_name()["alice"].status == ConnectionStatus.UNKNOWN  # never connected
    assert ClientFactory._meta.model  # factories importable

"""Each reason a connection status is unavailable, from a real poll over TCP against the
simulator to the client page (Connection details and the Connection tab), the client list's
Connection column and filter, and the PPPoE accounts list."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from routers import routeros
from routers.models import ConnectionStatus, PollErrorKind, PppoeAccount, Router
from routers.poller import poll_routers
from tests.factories import PppoeAccountFactory, RouterFactory
from tests.helpers import table_html

pytestmark = pytest.mark.django_db

UNAVAILABLE = "Connection status unavailable: "
OFFLINE = "The MikroTik server is offline"
NETWORK = "There’s a network connectivity issue"
NEVER = "The client has never connected"


def fresh(model_object):
    with scopes_disabled():
        return type(model_object).objects.get(pk=model_object.pk)


def seen_before():
    return timezone.now() - timedelta(hours=3)


def pages(client, account) -> dict[str, str]:
    """The client page and its Connection tab."""
    number = account.client.number
    return {
        name: client.get(reverse(url, kwargs={"number": number})).content.decode()
        for name, url in (
            ("client page", "clients:client_detail"),
            ("connection tab", "routers:client_connection"),
        )
    }


def assert_reason_everywhere(client, account, reason: str, word: str) -> None:
    for name, body in pages(client, account).items():
        assert UNAVAILABLE + reason in body, name
        assert 'status-dot-unknown" aria-hidden="true"></span>Unknown' in body, name
    listed = table_html(client.get(reverse("clients:client_list"), {"connection": "unknown"}))
    assert account.client.name in listed
    assert f'data-unavailable="{word}"' in listed and f"({word})" in listed
    assert f'title="{UNAVAILABLE}{reason}"' in listed.replace("&#x27;", "'")
    accounts = table_html(client.get(reverse("routers:account_list"), {"status": "unknown"}))
    assert account.username in accounts and f'data-unavailable="{word}"' in accounts


def test_refused_port_is_the_server_offline(client, owner, tenant, closed_port):
    router = RouterFactory(tenant=tenant, port=closed_port)
    account = PppoeAccountFactory(tenant=tenant, router=router, last_seen_at=seen_before())
    poll_routers()
    router = fresh(router)
    assert router.last_error_kind == PollErrorKind.OFFLINE
    assert fresh(account).status == ConnectionStatus.UNKNOWN
    assert_reason_everywhere(client, account, OFFLINE, "server offline")
    assert "refused the connection" in pages(client, account)["client page"]


def test_no_connection_within_the_timeout_is_the_server_offline(
    client, owner, tenant, sim, router_for, monkeypatch
):
    """A router that does not accept the TCP connection in time (switched off, no route) is
    offline, like a refused one, not a network issue."""

    def connect_times_out(checked, *, timeout):
        raise TimeoutError("timed out")

    monkeypatch.setattr(routeros.outbound, "connect", connect_times_out)
    account = PppoeAccountFactory(tenant=tenant, router=router_for(sim))
    poll_routers()
    router = fresh(account.router)
    assert router.last_error_kind == PollErrorKind.OFFLINE
    assert "did not accept the connection in time" in str(router.last_error)
    assert_reason_everywhere(client, account, OFFLINE, "server offline")


@pytest.mark.parametrize("hang", ["login", "command"])
def test_stalled_router_is_a_network_issue(client, owner, tenant, sim, router_for, hang):
    """The router accepts the connection and then never answers: a reply timed out."""
    sim.hang = hang
    account = PppoeAccountFactory(
        tenant=tenant, router=router_for(sim, timeout=0.5), last_seen_at=seen_before()
    )
    sim.add_secret(account.username)
    sim.connect_session(account.username)
    poll_routers(deadline_seconds=5)
    assert fresh(account.router).last_error_kind == PollErrorKind.TIMEOUT
    assert fresh(account).status == ConnectionStatus.UNKNOWN
    assert_reason_everywhere(client, account, NETWORK, "network issue")


def test_connection_dropped_mid_way_is_a_network_issue(client, owner, tenant, sim, router_for):
    sim.drop_connections = True
    account = PppoeAccountFactory(tenant=tenant, router=router_for(sim))
    poll_routers()
    assert fresh(account.router).last_error_kind == PollErrorKind.NETWORK
    assert_reason_everywhere(client, account, NETWORK, "network issue")


def test_account_never_seen_online_has_never_connected(client, owner, tenant, sim, router_for):
    router = router_for(sim)
    never = PppoeAccountFactory(tenant=tenant, router=router, username="never")
    online = PppoeAccountFactory(tenant=tenant, router=router, username="online")
    sim.connect_session("online")
    poll_routers()
    assert fresh(router).is_reachable is True
    never = fresh(never)
    assert never.status == ConnectionStatus.UNKNOWN and never.checked_at
    assert_reason_everywhere(client, never, NEVER, "never connected")
    assert 'data-testid="connection-last-seen">never<' in pages(client, never)["client page"]
    assert fresh(online).status == ConnectionStatus.ONLINE
    # Once it dials in, it is Online; when it leaves, it is plain Offline with its last seen.
    sim.connect_session("never")
    poll_routers()
    assert fresh(never).status == ConnectionStatus.ONLINE
    sim.disconnect_session("never")
    poll_routers()
    never = fresh(never)
    assert never.status == ConnectionStatus.OFFLINE and never.last_seen_at
    for name, body in pages(client, never).items():
        assert UNAVAILABLE not in body, name
        assert 'status-dot-offline" aria-hidden="true"></span>Offline' in body, name
    listed = table_html(client.get(reverse("clients:client_list"), {"connection": "offline"}))
    assert never.client.name in listed and "data-unavailable" not in listed


def test_account_seen_before_and_now_gone_is_offline(tenant, sim, router_for):
    account = PppoeAccountFactory(tenant=tenant, router=router_for(sim), last_seen_at=seen_before())
    poll_routers()
    account_after = fresh(account)
    assert account_after.status == ConnectionStatus.OFFLINE
    assert account_after.last_seen_at == account.last_seen_at


def test_login_refused_keeps_its_own_wording(client, owner, tenant, sim, router_for):
    account = PppoeAccountFactory(tenant=tenant, router=router_for(sim, password="Not-the-one-1"))
    poll_routers()
    assert fresh(account.router).last_error_kind == PollErrorKind.LOGIN
    for body in pages(client, account).values():
        assert UNAVAILABLE + "The router refused Clientdesk’s login" in body
        assert OFFLINE not in body and NETWORK not in body and NEVER not in body


def test_before_the_first_poll_the_status_is_not_checked_yet(client, owner, tenant):
    account = PppoeAccountFactory(tenant=tenant, router=RouterFactory(tenant=tenant))
    for body in pages(client, account).values():
        assert UNAVAILABLE + "Not checked yet" in body and NEVER not in body


def test_disabled_router_says_so(client, owner, tenant):
    router = RouterFactory(tenant=tenant, enabled=False)
    account = PppoeAccountFactory(tenant=tenant, router=router)
    with scopes_disabled():
        assert Router.objects.get(pk=router.pk).enabled is False
        assert PppoeAccount.objects.get(pk=account.pk).status == ConnectionStatus.UNKNOWN
    assert UNAVAILABLE + "The router is disabled" in pages(client, account)["client page"]

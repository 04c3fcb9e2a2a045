"""The outbound address policy: each refused class, allowed lists, IPv6, IPv4-mapped addresses,
names that resolve to several addresses, and connecting only to what was checked."""

import socket

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from config.settings import env_networks
from core import outbound
from tests.helpers import RecordingListener, fake_dns

DEFAULT_POLICY = override_settings(OUTBOUND_ALLOWED_NETWORKS=[])


@pytest.fixture
def listener():
    listening = RecordingListener("127.0.0.1")
    yield listening
    listening.close()


# -- the default policy ------------------------------------------------------------------------
@DEFAULT_POLICY
@pytest.mark.parametrize(
    "address, reason",
    [
        ("127.0.0.1", outbound.LOOPBACK),
        ("127.254.3.4", outbound.LOOPBACK),
        ("::1", outbound.LOOPBACK),
        ("169.254.169.254", outbound.METADATA),
        ("fd00:ec2::254", outbound.METADATA),
        ("169.254.10.20", outbound.LINK_LOCAL),
        ("fe80::1", outbound.LINK_LOCAL),
        ("fe80::1%1", outbound.LINK_LOCAL),
        ("0.0.0.0", outbound.UNSPECIFIED),
        ("0.1.2.3", outbound.UNSPECIFIED),
        ("::", outbound.UNSPECIFIED),
        ("224.0.0.1", outbound.MULTICAST),
        ("239.255.255.250", outbound.MULTICAST),
        ("ff02::1", outbound.MULTICAST),
        ("255.255.255.255", outbound.BROADCAST),
        ("240.0.0.1", outbound.RESERVED),
        ("fec0::1", outbound.RESERVED),
        ("::127.0.0.1", outbound.RESERVED),  # IPv4-compatible (deprecated)
        ("::ffff:127.0.0.1", outbound.LOOPBACK),  # IPv4-mapped: judged as 127.0.0.1
        ("::ffff:169.254.169.254", outbound.METADATA),
        ("::ffff:0.0.0.0", outbound.UNSPECIFIED),
        ("::ffff:224.0.0.5", outbound.MULTICAST),
    ],
)
def test_the_default_policy_refuses_each_class(address, reason):
    assert outbound.refusal_reason(address) == reason


@DEFAULT_POLICY
@pytest.mark.parametrize(
    "address",
    [
        "10.20.30.40",
        "172.16.0.1",
        "192.168.88.1",
        "100.64.0.1",  # carrier-grade NAT, where many ISP routers live
        "203.0.113.7",
        "8.8.8.8",
        "::ffff:10.0.0.1",
        "::ffff:8.8.4.4",
        "fd12:3456:789a::1",
        "2a00:1450:4001::1",
    ],
)
def test_the_default_policy_allows_public_and_private_networks(address):
    assert outbound.refusal_reason(address) is None


# -- an allowed list ---------------------------------------------------------------------------
@override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.0/8"])
@pytest.mark.parametrize(
    "address, allowed",
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::ffff:127.0.0.1", True),  # the mapped address is the IPv4 one
        ("::1", False),  # IPv6 loopback is not in an IPv4 network
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("8.8.8.8", False),
    ],
)
def test_a_set_list_allows_exactly_its_networks(address, allowed):
    reason = outbound.refusal_reason(address)
    assert (reason is None) is allowed
    if not allowed:
        assert reason == outbound.NOT_LISTED


@override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.1/32", "2001:db8::/32", "169.254.0.0/16"])
def test_a_set_list_replaces_the_default_refusals():
    assert outbound.refusal_reason("127.0.0.1") is None
    assert outbound.refusal_reason("127.0.0.2") == outbound.NOT_LISTED
    assert outbound.refusal_reason("2001:db8::5") is None
    assert outbound.refusal_reason("2001:db9::5") == outbound.NOT_LISTED
    # the deployment listed link-local itself
    assert outbound.refusal_reason("169.254.169.254") is None


@override_settings(OUTBOUND_ALLOWED_NETWORKS=["10.0.0.0/33"])
def test_a_bad_network_in_the_setting_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="OUTBOUND_ALLOWED_NETWORKS"):
        outbound.refusal_reason("10.0.0.1")


def test_the_setting_is_checked_when_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("OUTBOUND_ALLOWED_NETWORKS", " 10.0.0.0/8, 192.0.2.1 ,2001:db8::/32")
    assert env_networks("OUTBOUND_ALLOWED_NETWORKS") == ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"]
    monkeypatch.setenv("OUTBOUND_ALLOWED_NETWORKS", "10.0.0.0/8,not-a-network")
    with pytest.raises(ImproperlyConfigured, match="not-a-network"):
        env_networks("OUTBOUND_ALLOWED_NETWORKS")
    monkeypatch.delenv("OUTBOUND_ALLOWED_NETWORKS")
    assert env_networks("OUTBOUND_ALLOWED_NETWORKS") == []


# -- resolving ---------------------------------------------------------------------------------
@DEFAULT_POLICY
def test_a_name_is_refused_when_any_of_its_addresses_is(monkeypatch):
    fake_dns(monkeypatch, {"router.example": ["10.0.0.1", "2001:db8::1", "169.254.169.254"]})
    with pytest.raises(outbound.AddressRefused) as refused:
        outbound.check_host("router.example", 8728)
    assert refused.value.message == (
        "router.example resolves to 169.254.169.254, the cloud metadata address: "
        "Clientdesk may not connect to it."
    )


@DEFAULT_POLICY
def test_a_name_whose_addresses_are_all_allowed_keeps_every_one(monkeypatch):
    fake_dns(monkeypatch, {"router.example": ["10.0.0.1", "2001:db8::1", "10.0.0.1"]})
    checked = outbound.check_host("router.example", 8729)
    assert checked.host == "router.example" and checked.port == 8729
    assert [sockaddr[0] for _, sockaddr in checked.addresses] == ["10.0.0.1", "2001:db8::1"]
    assert [family for family, _ in checked.addresses] == [socket.AF_INET, socket.AF_INET6]


@DEFAULT_POLICY
def test_a_mapped_answer_is_judged_as_ipv4(monkeypatch):
    fake_dns(monkeypatch, {"sneaky.example": ["::ffff:127.0.0.1"]})
    with pytest.raises(outbound.AddressRefused, match="::ffff:127.0.0.1, a loopback address"):
        outbound.check_host("sneaky.example", 8728)


@DEFAULT_POLICY
def test_an_address_literal_is_named_once_in_the_message():
    with pytest.raises(outbound.AddressRefused) as refused:
        outbound.check_host("127.0.0.1", 6379)
    assert refused.value.message == (
        "127.0.0.1 is a loopback address (this server itself): Clientdesk may not connect to it."
    )
    with pytest.raises(outbound.AddressRefused, match=r"^::1 is a loopback"):
        outbound.check_host("[::1]", 5432)


@DEFAULT_POLICY
def test_localhost_is_refused_by_the_default_policy():
    with pytest.raises(outbound.AddressRefused, match="localhost resolves to .*loopback"):
        outbound.check_host("localhost", 5432)


@override_settings(OUTBOUND_ALLOWED_NETWORKS=["127.0.0.1/32"])
def test_outside_a_set_list_the_message_says_so():
    with pytest.raises(outbound.AddressRefused) as refused:
        outbound.check_host("127.0.0.2", 8728)
    assert refused.value.message == "127.0.0.2 is outside the networks Clientdesk may connect to."


@pytest.mark.parametrize("answer", [None, []])
def test_a_name_that_does_not_resolve_is_said_so(monkeypatch, answer):
    fake_dns(monkeypatch, {"gone.example": answer})
    with pytest.raises(outbound.HostUnresolvable) as unresolvable:
        outbound.check_host("gone.example", 8728)
    assert unresolvable.value.message == "The host name gone.example cannot be resolved."


def test_a_name_too_long_to_encode_is_unresolvable():
    with pytest.raises(outbound.HostUnresolvable):
        outbound.check_host("a" * 64 + ".example", 8728)


# -- connecting --------------------------------------------------------------------------------
def test_a_refused_host_is_never_connected_to(listener):
    policy = override_settings(OUTBOUND_ALLOWED_NETWORKS=["10.0.0.0/8"])
    with policy, pytest.raises(outbound.AddressRefused):
        outbound.open_connection("127.0.0.1", listener.port, timeout=1)
    assert listener.connections() == 0
    # the same call under a policy that allows loopback does reach the listener
    outbound.open_connection("127.0.0.1", listener.port, timeout=1).close()
    assert listener.connections() == 1


def test_the_connection_goes_to_the_checked_address_not_a_second_answer(monkeypatch, listener):
    looked_up = fake_dns(monkeypatch, {"rebind.example": ["127.0.0.1"]})
    checked = outbound.check_host("rebind.example", listener.port)
    # the name now answers with an address the policy refuses (DNS rebinding)
    fake_dns(monkeypatch, {"rebind.example": ["10.9.9.9"]})
    sock = outbound.connect(checked, timeout=1)
    assert sock.getpeername() == ("127.0.0.1", listener.port)
    sock.close()
    assert looked_up == ["rebind.example"] and listener.connections() == 1


def test_connect_tries_the_next_checked_address(listener):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    checked = outbound.CheckedHost(
        host="two.example",
        port=listener.port,
        addresses=(
            (socket.AF_INET, ("127.0.0.1", closed)),
            (socket.AF_INET, ("127.0.0.1", listener.port)),
        ),
    )
    outbound.connect(checked, timeout=1).close()
    assert listener.connections() == 1
    only_closed = outbound.CheckedHost("one.example", closed, checked.addresses[:1])
    with pytest.raises(ConnectionRefusedError):
        outbound.connect(only_closed, timeout=1)


# -- the portal's own services -----------------------------------------------------------------
def test_own_database_and_redis_are_refused_even_on_an_allowed_network(settings):
    """The demo and the tests allow loopback for the router simulator; the portal's PostgreSQL
    and Redis listen there too, and a router pointed at them is refused before any connection."""
    database = settings.DATABASES["default"]
    db_port = int(database.get("PORT") or 5432)
    with pytest.raises(outbound.AddressRefused) as refused:
        outbound.check_host(database["HOST"], db_port)
    assert "a service of Clientdesk itself" in refused.value.message
    with pytest.raises(outbound.AddressRefused):
        outbound.check_host("127.0.0.1", 6379)
    # Another loopback address reaches a service listening on all of them.
    with pytest.raises(outbound.AddressRefused):
        outbound.check_host("127.0.0.2", db_port)
    # Another port of the same address is a router like any other.
    assert outbound.check_host("127.0.0.1", 8728).addresses


def test_own_service_refused_through_another_name(monkeypatch):
    fake_dns(monkeypatch, {"db-alias.test": ["127.0.0.1"]})
    with pytest.raises(outbound.AddressRefused):
        outbound.check_host("db-alias.test", 6379)


def test_connect_tries_a_few_addresses_within_one_deadline(listener):
    """A name with many dead addresses: at most MAX_ADDRESSES_TRIED are tried, the listener
    behind them never reached."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    dead = [(socket.AF_INET, ("127.0.0.1", closed))] * outbound.MAX_ADDRESSES_TRIED
    checked = outbound.CheckedHost(
        host="many.example",
        port=closed,
        addresses=(*dead, (socket.AF_INET, ("127.0.0.1", listener.port))),
    )
    with pytest.raises(OSError):
        outbound.connect(checked, timeout=1)
    assert listener.connections() == 0


def test_own_service_ports_are_refused_on_this_servers_own_address(monkeypatch, settings):
    """Under the default policy a private network is allowed; the server's own address on it
    still does not reach the portal's Redis."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    fake_dns(monkeypatch, {"portal-host.test": ["10.20.30.40"], "edge.test": ["10.20.30.40"]})
    monkeypatch.setattr(socket, "gethostname", lambda: "portal-host.test")
    with pytest.raises(outbound.AddressRefused):
        outbound.check_host("edge.test", 6379)
    assert outbound.check_host("edge.test", 8728).addresses

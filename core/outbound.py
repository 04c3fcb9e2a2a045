"""The outbound address policy: where Clientdesk may connect on a tenant's behalf.

A tenant chooses the host of a router (and of any future webhook). Unchecked, that host could be
the portal's own database or cache, or the cloud metadata service, and the answer would tell the
tenant what listens there. So every such connection goes through here: the host is resolved,
EVERY address it resolves to is checked, and only a checked address is connected to. The name is
never resolved a second time, so an answer that changes between the check and the connection
(DNS rebinding) cannot slip through.

The deployment's OUTBOUND_ALLOWED_NETWORKS (comma-separated CIDRs) decides. Set: exactly those
networks are allowed. Unset: every public and private network is, and loopback, link-local (the
cloud metadata address included), unspecified, multicast, broadcast and reserved addresses are
refused. An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it maps.
Whatever the setting, the ports of the portal's own services (database, Redis, the broker, the
mail server) are refused on their hosts, on every loopback address and on this server's own
addresses: a network may be allowed for routers (loopback in the demo, the private network of a
compose stack) and still hold the portal's PostgreSQL.

    checked = check_host(host, port)            # OutboundError when refused or unresolvable
    sock = connect(checked, timeout=5)          # a TCP socket to one of the checked addresses
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

from .stored_text import StoredText, stored_gettext

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Why an address is refused, in the words of the refusal the operator (or API caller) reads,
# in their language.
METADATA = gettext_lazy("the cloud metadata address")
LOOPBACK = gettext_lazy("a loopback address (this server itself)")
LINK_LOCAL = gettext_lazy("a link-local address")
UNSPECIFIED = gettext_lazy("an unspecified address")
MULTICAST = gettext_lazy("a multicast address")
BROADCAST = gettext_lazy("the broadcast address")
RESERVED = gettext_lazy("a reserved address")
NOT_LISTED = gettext_lazy("outside the networks Clientdesk may connect to")
OWN_SERVICE = gettext_lazy(
    "a service of Clientdesk itself (its database, cache, broker or mail server)"
)

# What the default policy refuses, the most specific first (the metadata address is link-local).
REFUSED_BY_DEFAULT: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), reason)
    for network, reason in (
        ("169.254.169.254/32", METADATA),
        ("fd00:ec2::254/128", METADATA),  # the IPv6 metadata address of some clouds
        ("0.0.0.0/8", UNSPECIFIED),  # "this network": 0.0.0.0 reaches the server itself
        ("::/128", UNSPECIFIED),
        ("127.0.0.0/8", LOOPBACK),
        ("::1/128", LOOPBACK),
        ("169.254.0.0/16", LINK_LOCAL),
        ("fe80::/10", LINK_LOCAL),
        ("224.0.0.0/4", MULTICAST),
        ("ff00::/8", MULTICAST),
        ("255.255.255.255/32", BROADCAST),
        ("240.0.0.0/4", RESERVED),
        ("fec0::/10", RESERVED),  # the deprecated IPv6 site-local range
    )
)


class OutboundError(Exception):
    """Clientdesk will not connect to this host; `text` says why in plain words, as a stored
    message (a router's last error keeps it), `message` in the active language."""

    def __init__(self, text: StoredText, *, host: str) -> None:
        super().__init__(text.msgid)
        self.text = text
        self.host = host

    @property
    def message(self) -> str:
        return str(self.text)

    def __str__(self) -> str:
        return self.message


class AddressRefused(OutboundError):
    """The host is, or resolves to, an address the policy refuses."""


class HostUnresolvable(OutboundError):
    """The host name has no address."""


@dataclass(frozen=True)
class CheckedHost:
    """A host and the addresses it resolved to, every one of them allowed. `host` stays as
    given: it is the TLS server name and what messages show."""

    host: str
    port: int
    addresses: tuple[tuple[int, tuple], ...]  # (family, sockaddr), in the resolver's order


# -- the policy --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _parse_networks(networks: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks)
    except ValueError as error:
        raise ImproperlyConfigured(f"OUTBOUND_ALLOWED_NETWORKS: {error}") from None


def allowed_networks() -> tuple[IPNetwork, ...]:
    """The deployment's allowed networks; empty means the default policy."""
    return _parse_networks(tuple(getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", None) or ()))


def judged_address(address: str | IPAddress) -> IPAddress:
    """The address as the policy judges it: an IPv4-mapped IPv6 address is its IPv4 address."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def refusal_reason(address: str | IPAddress) -> str | None:
    """Why the policy refuses `address` (e.g. "a loopback address (this server itself)"), or
    None when it is allowed."""
    ip = judged_address(address)
    allowed = allowed_networks()
    if allowed:
        return None if any(ip in network for network in allowed) else NOT_LISTED
    for network, reason in REFUSED_BY_DEFAULT:
        if ip in network:
            return reason
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_reserved:
        return RESERVED  # unassigned IPv6 space, and the deprecated IPv4-compatible ::a.b.c.d
    return None


# -- resolving and connecting ------------------------------------------------------------------
def resolve(host: str, port: int) -> tuple[tuple[int, tuple], ...]:
    """Every (family, sockaddr) of `host` for a TCP connection, without duplicates."""
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OverflowError) as error:
        raise HostUnresolvable(unresolvable_message(host), host=host) from error
    addresses = tuple(dict.fromkeys((family, sockaddr) for family, _, _, _, sockaddr in infos))
    if not addresses:
        raise HostUnresolvable(unresolvable_message(host), host=host)
    return addresses


def unresolvable_message(host: str) -> StoredText:
    return stored_gettext("The host name %(host)s cannot be resolved.", host=host)


def _address_text(sockaddr: tuple) -> str:
    return str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) is not an address


def own_service_endpoints() -> frozenset[tuple[IPAddress, int]]:
    """(address, port) pairs where the portal's own services may listen: each service's port on
    the addresses its host resolves to, on every loopback address and on this server's own
    addresses (a service bound to all interfaces answers on each of them)."""
    hosts = _own_service_hosts()
    ports = {port for _, port in hosts}
    addresses = set(_resolved_addresses(socket.gethostname()))
    for host, _ in hosts:
        addresses.update(_resolved_addresses(host))
    return frozenset((address, port) for address in addresses for port in ports)


def _is_own_service(address: IPAddress, port: int, own: frozenset) -> bool:
    ports = {p for _, p in own}
    return (address, port) in own or (port in ports and address.is_loopback)


_RESOLVED: dict[str, tuple[float, tuple[IPAddress, ...]]] = {}
RESOLVED_FOR_SECONDS = 60.0


def _resolved_addresses(host: str) -> tuple[IPAddress, ...]:
    """The host's addresses, remembered for a minute (a container that moves is seen again);
    a host that does not resolve is asked again next time, never remembered as empty."""
    now = time.monotonic()
    cached = _RESOLVED.get(host)
    if cached and now - cached[0] < RESOLVED_FOR_SECONDS:
        return cached[1]
    try:
        found = tuple(judged_address(_address_text(a)) for _, a in resolve(host, 0))
    except HostUnresolvable:
        return ()
    _RESOLVED[host] = (now, found)
    return found


def _own_service_hosts() -> list[tuple[str, int]]:
    database = settings.DATABASES["default"]
    hosts = []
    if database.get("HOST"):
        hosts.append((database["HOST"], int(database.get("PORT") or 5432)))
    for url in sorted({getattr(settings, name, "") or "" for name in _SERVICE_URL_SETTINGS}):
        parts = urlsplit(url)
        if parts.scheme.startswith(("redis", "rediss", "amqp", "amqps")) and parts.hostname:
            default = 6379 if parts.scheme.startswith("redis") else 5672
            hosts.append((parts.hostname, parts.port or default))
    if getattr(settings, "EMAIL_HOST", ""):
        hosts.append((settings.EMAIL_HOST, int(settings.EMAIL_PORT)))
    return hosts


_SERVICE_URL_SETTINGS = ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


def check_host(host: str, port: int) -> CheckedHost:
    """Resolve `host` and check every address it resolves to; one refused address refuses the
    host (a connection could land on any of them). Raises AddressRefused or HostUnresolvable."""
    addresses = resolve(host, port)
    own = own_service_endpoints()
    for _, sockaddr in addresses:
        address = _address_text(sockaddr)
        reason = refusal_reason(address) or (
            OWN_SERVICE if _is_own_service(judged_address(address), port, own) else None
        )
        if reason is not None:
            raise AddressRefused(refusal_message(host, address, reason), host=host)
    return CheckedHost(host=host, port=port, addresses=addresses)


def refusal_message(host: str, address: str, reason) -> StoredText:
    """E.g. "db.example.net resolves to 127.0.0.1, a loopback address (this server itself):
    Clientdesk may not connect to it." """
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    values = {"host": host, "address": address, "reason": reason}
    if _same_address(name, address):
        if reason is NOT_LISTED:
            return stored_gettext("%(address)s is %(reason)s.", **values)
        return stored_gettext(
            "%(address)s is %(reason)s: Clientdesk may not connect to it.", **values
        )
    if reason is NOT_LISTED:
        return stored_gettext("%(host)s resolves to %(address)s, %(reason)s.", **values)
    return stored_gettext(
        "%(host)s resolves to %(address)s, %(reason)s: Clientdesk may not connect to it.",
        **values,
    )


def _same_address(name: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(name) == ipaddress.ip_address(address)
    except ValueError:
        return False


MAX_ADDRESSES_TRIED = 4


def connect(checked: CheckedHost, *, timeout: float) -> socket.socket:
    """A TCP socket connected to the first checked address that answers (in the resolver's
    order, as socket.create_connection does), within `timeout` for all the tries together and
    at most MAX_ADDRESSES_TRIED of them: a name with many dead addresses cannot hold a poll or
    a page for minutes. Never resolves the name again."""
    deadline = time.monotonic() + timeout
    *others, last = checked.addresses[:MAX_ADDRESSES_TRIED]
    for family, sockaddr in others:
        try:
            return _connect_to(family, sockaddr, max(0.1, deadline - time.monotonic()))
        except OSError:
            if time.monotonic() >= deadline:
                raise
    return _connect_to(*last, max(0.1, deadline - time.monotonic()))


def _connect_to(family: int, sockaddr: tuple, timeout: float) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


def open_connection(host: str, port: int, *, timeout: float) -> socket.socket:
    """check_host() then connect(): the one call for any outbound TCP connection."""
    return connect(check_host(host, port), timeout=timeout)

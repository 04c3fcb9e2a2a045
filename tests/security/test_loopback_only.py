"""The demo, the tests and the benchmarks connect to nothing but this machine: the seeded
routers are on 127.0.0.1 (the offline one on a closed local port, which the simulator leaves
closed), and no Python, shell or configuration source of the repository names another address
as something to connect to, but a few that are only text (listed below, with why)."""

import ipaddress
import re
import socket
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django_scopes import scopes_disabled

from routers import demo
from routers.management.commands.run_router_simulator import Command as SimulatorCommand
from routers.models import Router
from tests.factories import ClientFactory

ROOT = Path(settings.BASE_DIR)
SOURCE_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".env", ".html"}
SOURCE_NAMES = {"Makefile", "Dockerfile", "run"}  # run: .ci/run
SKIPPED_DIRS = {
    ".git",
    ".venv",
    "var",
    "node_modules",
    "__pycache__",
    "vendor",
    "media",
    ".ruff_cache",
}
# Addresses that appear in a file only as text, never as something the demo, the tests or the
# benchmarks connect to: (file, text) -> why.
ALLOWED = {
    ("Dockerfile", "0.0.0.0"): "the production container listens on all interfaces",
    ("docker-compose.yml", "0.0.0.0"): "the production container listens on all interfaces",
    ("docker-compose.yml", "postgres"): "the production stack's own database service",
    ("docker-compose.yml", "redis"): "the production stack's own Redis service",
    ("docker-compose.yml", "clientdesk"): "the user of the stack's database URL, read as a host",
    ("tests/ops/test_metrics.py", "10.0.0.0"): "a network /metrics refuses; nothing connects",
    ("routers/forms.py", "192.0.2.1"): "an example in the Host field's message",
    ("tests/routers/test_poller.py", "10.9.0.5"): "a session address the simulator reports",
    ("tests/routers/test_poller.py", "10.0.0.9"): "a session address the simulator reports",
    ("tests/routers/test_router_pages.py", "10.1.2.3"): "a session address the simulator reports",
    ("tests/browser/test_routers.py", "10.77.0.2"): "a session address the simulator reports",
    ("tests/events/test_webhook_delivery.py", "10.0.0.0"): "the only network allowed, so that "
    "the receiver's loopback address is refused before any connection",
}
# The outbound address policy and its tests: addresses there are what the policy refuses or
# allows, checked before any connection is made. And this file, which lists the allowances.
NOT_SCANNED = {
    "core/outbound.py",
    "tests/core/test_outbound.py",
    "tests/routers/test_address_policy.py",
    "tests/security/test_loopback_only.py",
}
# What a test sends as a router's or an endpoint's address to see the outbound policy refuse it.
REFUSED_BY_POLICY = {
    ("tests/browser/test_routers.py", "10.0.0.1"),
    ("tests/browser/test_webhooks.py", "10.9.9.9"),
    ("tests/events/test_webhook_pages.py", "10.0.0.5"),
    ("tests/api/test_api_webhooks.py", "10.0.0.1"),
    ("tests/api/test_api_webhooks.py", "169.254.169.254"),
    ("tests/api/test_api_webhooks.py", "10.1.2.3"),
}
IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?![\w.])")
# The services the server connects to by URL. A web address (http, https) in the code is a
# link shown to a person (a client's site, a redirect target, a formula in an export test),
# not a connection the server makes; an IP address in one is still found by IPV4.
URL_HOST = re.compile(
    r"\b(?:postgres(?:ql)?|redis|rediss|amqp|smtps?|sqla\+\w+|mysql|mongodb)://"
    r"(?:[^/\s@'\"]+@)?(\[[0-9a-fA-F:]+\]|[^/\s:'\"?#)]+)"
)
CONNECT_CALL = re.compile(
    r"(?:create_connection|\.connect|urlopen|requests\.\w+|httpx\.\w+)\(\s*\(?\s*f?[\"']"
    r"(?:\w+://)?([^\"'/:\s]+)"
)
HOST_SETTING = re.compile(
    r"""(?:\bhost|HOST|--host)["']?\s*(?:=|:|\s)\s*f?["']([^"'\s]+)["']""", re.IGNORECASE
)
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def is_loopback(text: str) -> bool:
    """Loopback, or a name under .test: reserved, it never resolves on any network, and the
    tests answer it with fake_dns (tests/helpers.py), pointing it at 127.0.0.1."""
    if text in LOCAL_NAMES or text.endswith((".localhost", ".test")):
        return True
    try:
        return ipaddress.ip_address(text.strip("[]")).is_loopback
    except ValueError:
        return False


def sources():
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS for part in relative.parts) or not path.is_file():
            continue
        if path.suffix in SOURCE_SUFFIXES or path.name in SOURCE_NAMES:
            yield relative.as_posix(), path.read_text(errors="replace")


def connection_targets(text: str):
    """Every IPv4 address, URL host and host setting in the text, with its line."""
    for number, line in enumerate(text.splitlines(), start=1):
        for pattern in (IPV4, URL_HOST, HOST_SETTING, CONNECT_CALL):
            for match in pattern.finditer(line):
                target = match.group(1)
                if re.fullmatch(r"[\d.]+", target):
                    try:
                        ipaddress.ip_address(target)
                    except ValueError:
                        continue  # a version number, or an address no one can reach
                if "$" in target or "{" in target:
                    continue  # filled in from a variable: checked where it is set
                yield number, target


def foreign_targets() -> list[str]:
    found = []
    for name, text in sources():
        if name in NOT_SCANNED:
            continue
        for number, target in connection_targets(text):
            allowed = (name, target) in ALLOWED or (name, target) in REFUSED_BY_POLICY
            if not is_loopback(target) and not allowed:
                found.append(f"{name}:{number}: {target}")
    return found


def test_the_scan_finds_foreign_addresses():
    sample = (
        'ROUTER = "192.0.2.10"\nurl = "redis://cache.internal:6379/0"\nhost="db1"\n'
        'socket.create_connection(("mail.example.com", 25))\n'
    )
    assert [t for _, t in connection_targets(sample)] == [
        "192.0.2.10",
        "cache.internal",
        "db1",
        "mail.example.com",
    ]
    local = 'host="127.0.0.1"\nurl = "postgres://u@localhost:5432/x"\nv = "1.2.3"\n'
    assert all(is_loopback(t) for _, t in connection_targets(local))


def test_sources_connect_only_to_loopback():
    assert any(name == "routers/demo.py" for name, _ in sources())  # the scan reads the code
    found = foreign_targets()
    assert not found, "non-loopback connection targets:\n" + "\n".join(found)


def test_every_allowed_address_is_still_there():
    """An allowance whose text is gone is removed, so that the list stays small."""
    texts = dict(sources())
    stale = [key for key in ALLOWED if key[1] not in texts.get(key[0], "")]
    assert not stale, f"remove from ALLOWED: {stale}"


# -- the seeded routers -----------------------------------------------------------------------
@pytest.fixture
def seeded_routers(tenant):
    clients = [ClientFactory(tenant=tenant) for _ in range(10)]
    context = {"tenants": {"isp": tenant}, "clients": {"isp": clients}}
    with scopes_disabled():
        demo.seed(context, lambda *a: None)
        return list(Router.objects.filter(tenant=tenant).order_by("port"))


@pytest.mark.django_db
def test_seeded_routers_are_all_on_loopback(seeded_routers):
    assert len(seeded_routers) == 4
    assert {r.host for r in seeded_routers} == {"127.0.0.1"}
    down = next(r for r in seeded_routers if r.name == demo.UNREACHABLE_ROUTER)
    assert down.port == demo.CLOSED_PORT
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", down.port)) != 0  # refused: nothing listens


@pytest.mark.django_db
def test_each_seeding_has_its_own_router_password(tenant, other_tenant, monkeypatch):
    monkeypatch.delenv(demo.PASSWORD_ENV, raising=False)
    passwords = []
    for owner in (tenant, other_tenant):
        context = {"tenants": {"isp": owner}, "clients": {"isp": []}}
        with scopes_disabled():
            demo.seed(context, lambda *a: None)
            passwords.append({r.password for r in Router.objects.filter(tenant=owner)})
    assert all(len(p) == 1 for p in passwords) and passwords[0] != passwords[1]
    monkeypatch.setenv(demo.PASSWORD_ENV, "Kept-in-var-for-this-checkout")
    assert demo.router_password() == "Kept-in-var-for-this-checkout"


@pytest.mark.django_db
def test_seeding_takes_free_ports_beside_a_running_simulator(tenant):
    first = demo.simulator_ports(3)
    with socket.create_server(("127.0.0.1", first[0])):  # another demo's router
        ports = demo.simulator_ports(3)
    assert first[0] not in ports and len(set(ports)) == 3 and min(ports) >= demo.FIRST_PORT


def test_seeding_fails_loudly_when_the_closed_port_answers(monkeypatch):
    monkeypatch.setattr(demo, "accepts_connections", lambda port, host="127.0.0.1": True)
    with pytest.raises(CommandError, match="the demo's offline router needs"):
        demo.closed_port()


@pytest.mark.django_db
def test_simulator_serves_the_live_routers_and_leaves_the_offline_one_closed(seeded_routers):
    live = [r for r in seeded_routers if r.name != demo.UNREACHABLE_ROUTER]
    command = SimulatorCommand(stdout=StringIO(), stderr=StringIO())
    sims = command.from_db({"online": 0.5, "host": "127.0.0.1"})
    try:
        assert sorted(s.port for s in sims) == sorted(r.port for r in live)
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", demo.CLOSED_PORT)) != 0
    finally:
        for sim in sims:
            sim.stop()


@pytest.mark.django_db
def test_simulator_stops_with_an_error_when_a_port_is_taken(seeded_routers):
    taken = next(r for r in seeded_routers if r.name != demo.UNREACHABLE_ROUTER)
    message = f"Port {taken.port} for router {taken.name} is taken"
    with (
        socket.create_server(("127.0.0.1", taken.port)),
        pytest.raises(CommandError, match=message),
    ):
        call_command("run_router_simulator", "--from-db", stdout=StringIO())

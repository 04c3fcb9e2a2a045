"""Demo routers and PPPoE accounts for the internet provider.

Every demo router is on this machine (127.0.0.1): the demo connects to nothing else. Three are
served by `manage.py run_router_simulator --from-db` (the demo script starts it) on ports
free when the demo was seeded; the fourth is on a closed local port. Together they show each
reason a connection status is unavailable (routers.availability):

- "Old POP West" is on the closed port: the MikroTik server is offline;
- "Tower East" accepts the connection but never answers (the simulator's hang="login", as a
  tower whose link drops the replies): a network connectivity issue;
- on "Core North" and "Core South" sessions come and go, but a few clients have never
  connected: their accounts have no `last_seen_at`, and the simulator never dials them in.

Each client with an internet subscription gets an account on one of the routers, with the
package's PPPoE profile; the others were last seen online some hours ago. "Core North" also
has a few secrets from before Clientdesk (`legacy_secrets`), for its Adopt existing secrets
page: three for new clients (one disabled), one of another service, and one whose name is
already an account on "Core South" (refused). The routers' API
password is the checkout's own (DEMO_ROUTER_PASSWORD, which the demo script keeps in var/), or
a random one.
"""

import os
import secrets
import socket
from datetime import timedelta

from django.core.management.base import CommandError
from django.utils import timezone

from routers.models import PppoeAccount, Router, SyncState
from subscriptions.models import Subscription

LOOPBACK = "127.0.0.1"
LIVE_ROUTERS = ["Core North", "Core South"]
STALLED_ROUTER = "Tower East"  # accepts the connection, never answers
SIMULATED_ROUTERS = [*LIVE_ROUTERS, STALLED_ROUTER]
UNREACHABLE_ROUTER = "Old POP West"
# TCP port 1 (tcpmux, unused in practice) is below 1024: no unprivileged process can listen
# on it, so a router there is refused at once. Checked when the demo is seeded.
CLOSED_PORT = 1
FIRST_PORT = 18728  # the simulated routers take the first free run of ports from here
PASSWORD_ENV = "DEMO_ROUTER_PASSWORD"
ACCOUNTS = 120  # clients of the demo ISP with a PPPoE account
LEGACY_ROUTER = "Core North"  # has secrets from before Clientdesk, to adopt


def accepts_connections(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


def is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server (the simulator) could listen on the port now."""
    with socket.socket() as listener:
        try:
            listener.bind((host, port))
        except OSError:
            return False
    return True


def closed_port() -> int:
    if accepts_connections(CLOSED_PORT):
        raise CommandError(
            f"Something listens on {LOOPBACK}:{CLOSED_PORT}; the demo's offline router needs "
            "that port closed."
        )
    return CLOSED_PORT


def simulator_ports(count: int) -> list[int]:
    """The first run of `count` free ports from FIRST_PORT, so that a second demo on this
    machine (another checkout) gets ports of its own while the first one runs."""
    for start in range(FIRST_PORT, 65536 - count, count):
        ports = list(range(start, start + count))
        if all(is_free(port) for port in ports):
            return ports
    raise CommandError(f"No {count} free local ports for the simulated routers.")


def router_password() -> str:
    return os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(18)


def simulated_hang(router_name: str) -> str | None:
    """The simulator's hang mode for a demo router: the stalled one never answers."""
    return "login" if router_name == STALLED_ROUTER else None


def router_of(index: int, routers: dict[str, Router]) -> Router:
    """Every tenth client on the offline router, every tenth on the stalled one, the others
    on the two live routers."""
    if index % 10 == 9:
        return routers[UNREACHABLE_ROUTER]
    if index % 10 == 8:
        return routers[STALLED_ROUTER]
    return routers[LIVE_ROUTERS[index % 2]]


def never_connected(index: int) -> bool:
    """One client in twenty, on the live routers (one on each), has never dialled in."""
    return index % 20 in (4, 15)


def seed(context: dict, log) -> None:
    tenant = context["tenants"].get("isp")
    if tenant is None:
        return
    password = router_password()
    addresses = list(zip(SIMULATED_ROUTERS, simulator_ports(len(SIMULATED_ROUTERS)), strict=True))
    addresses.append((UNREACHABLE_ROUTER, closed_port()))
    routers = {}
    for name, port in addresses:
        router = Router(
            tenant=tenant,
            name=name,
            host=LOOPBACK,
            port=port,
            username="clientdesk",
            timeout=3,
            audit_due=True,
        )
        router.set_password(password)
        router.save()
        routers[name] = router
    profiles = _profiles(tenant)
    clients = context["clients"]["isp"][:ACCOUNTS]
    now = timezone.now()
    accounts = []
    for index, client in enumerate(clients):
        account = PppoeAccount(
            tenant=tenant,
            client=client,
            router=router_of(index, routers),
            username=f"isp{client.number:05d}",
            profile=profiles.get(client.pk, "default"),
            sync_state=SyncState.SYNCED,
            last_seen_at=None
            if never_connected(index)
            else now - timedelta(hours=1 + index % 47, minutes=index * 7 % 60),
        )
        account.set_password(f"pppoe-{client.number:05d}")
        accounts.append(account)
    PppoeAccount.objects.bulk_create(accounts)
    context["routers"] = list(routers.values())
    ports = ", ".join(f"{r.name} {r.host}:{r.port}" for r in routers.values())
    log(f"  routers: {len(routers)} routers ({ports}), {len(accounts)} PPPoE accounts")


def _profiles(tenant) -> dict[int, str]:
    """The PPPoE profile of each client's newest subscription's package."""
    rows = (
        Subscription.objects.for_tenant(tenant)
        .exclude(package__pppoe_profile="")
        .order_by("client_id", "-start_date")
        .values_list("client_id", "package__pppoe_profile")
    )
    profiles: dict[int, str] = {}
    for client_id, profile in rows:
        profiles.setdefault(client_id, profile)
    return profiles


def legacy_secrets(router: Router) -> list[dict]:
    """The secrets "Core North" had before Clientdesk, as add_secret's arguments (none for the
    other routers); the simulator skips a name it already holds (an adopted one)."""
    if router.name != LEGACY_ROUTER:
        return []
    secrets_ = [
        {"name": "legacy-01", "password": "legacy-pw-1", "comment": "Legacy subscriber 1"},
        {
            "name": "legacy-02",
            "password": "legacy-pw-2",
            "comment": "Legacy subscriber 2",
            "disabled": "yes",
        },
        {"name": "legacy-03", "password": "legacy-pw-3", "profile": "default"},
        {"name": "legacy-vpn", "password": "legacy-pw-4", "service": "l2tp"},
    ]
    elsewhere = (
        PppoeAccount.objects.for_tenant(router.tenant)
        .filter(router__name=LIVE_ROUTERS[1], router_secret_id="")
        .order_by("username")
        .values_list("username", flat=True)
        .first()
    )
    if elsewhere:
        secrets_.append({"name": elsewhere, "password": "legacy-pw-5", "service": "pppoe"})
    return secrets_

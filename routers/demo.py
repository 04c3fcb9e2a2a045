"""Demo routers and PPPoE accounts for the internet provider.

Three routers on local ports that `manage.py run_router_simulator --from-db` serves (the demo
script starts it), and a fourth on an address that cannot be reached, so that the demo shows a
router offline and its clients "Connection status unavailable: Router offline". Each client with an
internet subscription gets an account on one of the routers, with the package's PPPoE profile.
"""

from routers.models import PppoeAccount, Router, SyncState

DEMO_ROUTER_PASSWORD = "demo-router-api"
DEMO_ROUTERS = [
    ("Core North", 18728),
    ("Core South", 18729),
    ("Tower East", 18730),
    ("Old POP West", 8728),  # on a documentation address (192.0.2.0/24): unreachable
]
UNREACHABLE_HOST = "192.0.2.10"
ACCOUNTS = 120  # clients of the demo ISP with a PPPoE account


def seed(context: dict, log) -> None:
    tenant = context["tenants"].get("isp")
    if tenant is None:
        return
    routers = []
    for name, port in DEMO_ROUTERS:
        router = Router(
            tenant=tenant,
            name=name,
            host=UNREACHABLE_HOST if name == "Old POP West" else "127.0.0.1",
            port=port,
            username="clientdesk",
            timeout=3,
            audit_due=True,
        )
        router.set_password(DEMO_ROUTER_PASSWORD)
        router.save()
        routers.append(router)
    profiles = _profiles(tenant)
    clients = context["clients"]["isp"][:ACCOUNTS]
    accounts = []
    for index, client in enumerate(clients):
        # Most on the three live routers; every tenth on the one that is down.
        router = routers[3] if index % 10 == 9 else routers[index % 3]
        account = PppoeAccount(
            tenant=tenant,
            client=client,
            router=router,
            username=f"isp{client.number:05d}",
            profile=profiles.get(client.pk, "default"),
            sync_state=SyncState.SYNCED,
        )
        account.set_password(f"pppoe-{client.number:05d}")
        accounts.append(account)
    PppoeAccount.objects.bulk_create(accounts)
    context["routers"] = routers
    log(f"  routers: {len(routers)} routers, {len(accounts)} PPPoE accounts")


def _profiles(tenant) -> dict[int, str]:
    """The PPPoE profile of each client's newest subscription's package."""
    try:
        from subscriptions.models import Subscription
    except ImportError:  # pragma: no cover
        return {}
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

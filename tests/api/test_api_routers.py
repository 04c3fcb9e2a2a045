"""Routers and PPPoE accounts over the API: their live status as the portal shows it, the
pages' filters, and never a password."""

from django.utils import timezone
from django_scopes import scopes_disabled

from routers.availability import NEVER_CONNECTED, SERVER_OFFLINE
from routers.models import PollErrorKind
from tests.api.test_api_http import assert_problem
from tests.factories import ROUTER_TEST_PASSWORD, PppoeAccountFactory, RouterFactory, TenantFactory

PPPOE_SECRET = "ppp-Secret-Never-Shown"


def network(tenant):
    """A reachable router with an online and a never connected account, an unreachable one
    whose account is Unknown (server offline), and a router never polled."""
    now = timezone.now()
    with scopes_disabled():
        core = RouterFactory(
            tenant=tenant,
            name="Core",
            is_reachable=True,
            last_polled_at=now,
            last_success_at=now,
            sessions_online=1,
            identity="core-rb",
        )
        edge = RouterFactory(
            tenant=tenant,
            name="Edge",
            host="127.0.0.2",
            is_reachable=False,
            last_polled_at=now,
            last_error="Connection refused",
            last_error_kind=PollErrorKind.OFFLINE,
        )
        RouterFactory(tenant=tenant, name="Fresh")
        online = PppoeAccountFactory(
            tenant=tenant,
            router=core,
            username="alice",
            status="online",
            last_seen_at=now,
            checked_at=now,
            address="127.0.0.7",
            password=PPPOE_SECRET,
        )
        never = PppoeAccountFactory(
            tenant=tenant, router=core, username="bob", status="offline", checked_at=now
        )
        never.status = "unknown"
        never.save(update_fields=["status"])
        lost = PppoeAccountFactory(
            tenant=tenant, router=edge, username="carol", status="unknown", password=PPPOE_SECRET
        )
    return core, edge, online, never, lost


def test_routers_list_and_read_show_the_poll_state_never_the_password(api_tenant, api_as):
    core, edge, *_ = network(api_tenant)
    api = api_as(api_tenant, "viewer")

    listed = api.get("routers/")
    assert listed.status_code == 200, listed.text
    states = {item["name"]: item["state"] for item in listed.json()["items"]}
    assert states == {"Core": "Reachable", "Edge": "Unreachable", "Fresh": "Never polled"}
    assert ROUTER_TEST_PASSWORD not in listed.text and "password" not in listed.text
    assert "username" not in listed.json()["items"][0]

    unreachable = api.get("routers/", params={"state": "unreachable"}).json()["items"]
    assert [(r["name"], r["last_error_kind"]) for r in unreachable] == [("Edge", "offline")]
    assert [r["name"] for r in api.get("routers/", params={"q": "core-"}).json()["items"]] == [
        "Core"
    ]
    page = api.get("routers/", params={"sort": "-name", "limit": 2, "fields": "name"}).json()
    assert page["items"] == [{"name": "Fresh"}, {"name": "Edge"}]
    rest = api.get("routers/", params={"sort": "-name", "limit": 2, "cursor": page["next"]})
    assert [r["name"] for r in rest.json()["items"]] == ["Core"] and rest.json()["next"] is None

    read = api.get(f"routers/{core.pk}/")
    assert read.status_code == 200
    body = read.json()
    assert (body["accounts_count"], body["sessions_online"], body["identity"]) == (2, 1, "core-rb")
    assert ROUTER_TEST_PASSWORD not in read.text


def test_router_list_refuses_bad_filters_sorts_and_fields(api_tenant, api_as):
    network(api_tenant)
    api = api_as(api_tenant, "viewer")
    assert_problem(api.get("routers/", params={"state": "sleepy"}), 422, "state")
    assert_problem(api.get("routers/", params={"sort": "password"}), 422, "sort")
    assert_problem(api.get("routers/", params={"fields": "password"}), 422, "fields")
    assert_problem(api.get("routers/", params={"cursor": "forged"}), 422, "cursor")
    assert_problem(api.get("routers/", params={"limit": 0}), 422, "limit")
    assert_problem(api.get("routers/99999999/"), 404)
    assert_problem(api.get("routers/abc/"), 422, "router_id")


def test_accounts_show_the_status_and_why_it_is_unknown(api_tenant, api_as):
    core, edge, online, never, lost = network(api_tenant)
    api = api_as(api_tenant, "viewer")

    listed = api.get("pppoe-accounts/")
    assert listed.status_code == 200, listed.text
    items = {item["username"]: item for item in listed.json()["items"]}
    assert list(items) == ["alice", "bob", "carol"]
    assert PPPOE_SECRET not in listed.text and "password" not in listed.text
    alice = items["alice"]
    assert (alice["status"], alice["status_label"], alice["address"]) == (
        "online",
        "Online",
        "127.0.0.7",
    )
    assert (alice["unavailable"], alice["unavailable_reason"]) == ("", "")
    assert (alice["client"], alice["router"], alice["router_name"]) == (
        online.client.number,
        core.pk,
        "Core",
    )
    assert items["bob"]["unavailable_reason"] == NEVER_CONNECTED.reason
    carol = items["carol"]
    assert (carol["status_label"], carol["unavailable"], carol["unavailable_reason"]) == (
        "Unknown",
        SERVER_OFFLINE.word,
        SERVER_OFFLINE.reason,
    )
    assert carol["router_error"] == "Connection refused"

    by_router = api.get("pppoe-accounts/", params={"router": edge.pk}).json()["items"]
    assert [a["username"] for a in by_router] == ["carol"]
    unknown = api.get("pppoe-accounts/", params={"status": "unknown", "fields": "username"})
    assert unknown.json()["items"] == [{"username": "bob"}, {"username": "carol"}]
    found = api.get("pppoe-accounts/", params={"q": str(online.client.number)}).json()["items"]
    assert "alice" in [a["username"] for a in found]
    by_client = api.get("pppoe-accounts/", params={"sort": "-client", "fields": "client"}).json()
    numbers = [a["client"] for a in by_client["items"]]
    assert numbers == sorted(numbers, reverse=True)

    read = api.get(f"pppoe-accounts/{lost.pk}/")
    assert read.status_code == 200 and read.json()["unavailable_reason"] == SERVER_OFFLINE.reason
    assert PPPOE_SECRET not in read.text


def test_account_filters_refuse_bad_values_and_other_tenants_routers(
    api_tenant, api_other_tenant, api_as
):
    network(api_tenant)
    theirs, *_ = network(api_other_tenant)
    api = api_as(api_tenant, "viewer")
    assert_problem(api.get("pppoe-accounts/", params={"router": theirs.pk}), 422, "router")
    assert_problem(api.get("pppoe-accounts/", params={"status": "asleep"}), 422, "status")
    assert_problem(api.get("pppoe-accounts/", params={"enabled": "maybe"}), 422, "enabled")
    assert_problem(api.get("pppoe-accounts/", params={"sort": "password"}), 422, "sort")
    with scopes_disabled():
        their_account = theirs.accounts.first()
    assert_problem(api.get(f"pppoe-accounts/{their_account.pk}/"), 404)
    assert_problem(api.get(f"routers/{theirs.pk}/"), 404)


def test_routers_need_the_internet_module(api_as):
    messaging_only = TenantFactory(uses_routers=False, uses_reseller=False, uses_messaging=True)
    api = api_as(messaging_only, "owner")
    assert_problem(api.get("routers/"), 404)
    assert_problem(api.get("pppoe-accounts/"), 404)

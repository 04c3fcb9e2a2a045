"""Client Details, as the internet provider's operator walks it (seed 000).

"The client details page provides a comprehensive view of a customer's information and
history." Northwind Broadband's demo: its routers served by the router simulator the way the
demo starts it, one poll run so that Online and Offline are real, and "Old POP West" down.
"""

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.db.models import Sum
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clients.models import Client, ClientStatus
from routers.availability import NETWORK_ISSUE, NEVER_CONNECTED, SERVER_OFFLINE
from routers.demo import LIVE_ROUTERS, STALLED_ROUTER, UNREACHABLE_ROUTER
from routers.management.commands.run_router_simulator import Command as RouterSimulator
from routers.models import ConnectionStatus, PppoeAccount
from routers.poller import poll_routers
from subscriptions.models import Subscription, SubscriptionStatus
from tests.stories.conftest import (
    card,
    cells,
    column_headers,
    definition,
    find_shown,
    go_to_clients,
    list_table,
    log_in,
    named,
    refreshed,
)

pytestmark = pytest.mark.browser

LIVE_STATUSES = [SubscriptionStatus.ACTIVE, SubscriptionStatus.SUSPENDED]


@pytest.fixture(scope="module")
def routers(demo):
    """The demo's routers as `make demo` serves them (`run_router_simulator --from-db`), polled
    once; then one online client hangs up and a second poll sees it go, so that Offline is a
    client seen before and gone now."""
    simulators = RouterSimulator(stdout=StringIO(), stderr=StringIO()).from_db(
        {"online": 0.7, "host": "127.0.0.1"}
    )
    try:
        poll_routers()
        online = {name for sim in simulators for name in sim.active_names()}
        with scopes_disabled():
            accounts = PppoeAccount.objects.filter(tenant=demo["isp"]).select_related("client")
            hung_up = next(
                a
                for a in accounts.order_by("pk")
                if a.username in online and not has_live(a.client)
            )
        for sim in simulators:
            sim.disconnect_session(hung_up.username)
        poll_routers()
        yield {"online": online - {hung_up.username}, "hung_up": hung_up}
    finally:
        for sim in simulators:
            sim.stop()


def has_live(client) -> bool:
    return Subscription.objects.filter(client=client, status__in=LIVE_STATUSES).exists()


@pytest.fixture(scope="module")
def customer(demo, routers):
    """A client who is online, with one active subscription and a history behind it."""
    with scopes_disabled():
        candidates = (
            PppoeAccount.objects.filter(
                tenant=demo["isp"],
                username__in=routers["online"],
                client__status=ClientStatus.ACTIVE,
                client__subscriptions__status=SubscriptionStatus.ACTIVE,
            )
            .exclude(client__phone="")
            .exclude(client__email="")
            .select_related("client", "router")
            .order_by("client__number")
        )
        for account in candidates:
            subscriptions = account.client.subscriptions
            one_current = subscriptions.filter(status=SubscriptionStatus.ACTIVE).count() == 1
            if one_current and subscriptions.count() >= 3:
                return account
    raise AssertionError("The demo has no online client with a subscription history.")


@pytest.fixture(scope="module")
def client_to_delete(demo):
    """A client whose subscriptions are all completed."""
    with scopes_disabled():
        clients = Client.objects.filter(tenant=demo["isp"], status=ClientStatus.ACTIVE)
        for client in clients.order_by("number"):
            subscriptions = client.subscriptions.all()
            if subscriptions and not subscriptions.filter(status__in=LIVE_STATUSES).exists():
                return client
    raise AssertionError("The demo has no client with only completed subscriptions.")


def client_page(page, client) -> None:
    page.goto(f"/clients/{client.number}/")
    expect(page.get_by_role("heading", name=re.compile(re.escape(client.name)))).to_be_visible()


def connection_status(page):
    return definition(card(page, "Connection details"), "Connection Status")


# -- Accessing Client Details --------------------------------------------------------------
def test_go_to_clients(page, demo):
    """Go to Clients"""
    log_in(page, "isp-manager")
    go_to_clients(page)
    expect(list_table(page).locator("tbody tr").first).to_be_visible()


def test_click_on_a_clients_name_in_the_list(page, customer):
    """Click on a client's name in the list"""
    client = customer.client
    page.get_by_role("combobox", name="Search").fill(str(client.number))
    with refreshed(page):
        page.keyboard.press("Enter")
    with refreshed(page):
        list_table(page).get_by_role("link", name=client.name).first.click()
    expect(page).to_have_url(re.compile(rf"/clients/{client.number}/$"))
    expect(page.get_by_role("heading", name=re.compile(re.escape(client.name)))).to_be_visible()


# -- Information Sections ------------------------------------------------------------------
def test_basic_information_displays_the_clients_personal_details(page, customer):
    """Basic Information: Displays the client's personal details: Client ID - Your internal
    reference; Name - Customer name; Phone - Contact number; Email - Email address; Address -
    Physical location; Created - When the record was created"""
    client = customer.client
    basic = card(page, "Basic information")
    expect(definition(basic, "Client ID")).to_have_text(str(client.number))
    expect(definition(basic, "Name")).to_have_text(client.name)
    expect(definition(basic, "Phone")).to_have_text(client.phone)
    expect(definition(basic, "Email")).to_have_text(client.email)
    expect(definition(basic, "Address")).to_have_text(client.address)
    created = client.created_at.astimezone(client.tenant.zone)
    expect(definition(basic, "Created")).to_contain_text(str(created.year))


def test_connection_details_show_the_clients_connection_configuration(page, customer):
    """Connection Details: Shows the client's connection configuration: PPPoE Username -
    Authentication username; Server - Assigned MikroTik router; Connection Status -
    Online/Offline indicator (when available)"""
    details = card(page, "Connection details")
    expect(definition(details, "PPPoE Username")).to_have_text(customer.username)
    expect(definition(details, "Server")).to_contain_text(customer.router.name)
    expect(connection_status(page)).to_have_text(re.compile(r"Online"))


def test_current_subscription_of_a_client_with_an_active_subscription(page, customer):
    """Current Subscription: If the client has an active subscription: Package Name - The
    service package; Status - Active, Expiring, or Expired; Start Date - When the subscription
    began; End Date - When the subscription expires; Auto-Renew - Whether automatic renewal is
    enabled"""
    with scopes_disabled():
        current = customer.client.subscriptions.get(status=SubscriptionStatus.ACTIVE)
        package = current.package.name
    table = card(page, "Current subscription").locator("table")
    headers = column_headers(table)
    for term in ["Package Name", "Status", "Start Date", "End Date", "Auto-Renew"]:
        assert find_shown(term, headers), f"{term!r} not among {headers}"
    assert cells(table, "Package") == [package]
    assert cells(table, "Status")[0] in {"Active", "Expiring", "Expired"}
    assert str(current.start_date.year) in cells(table, "Start Date")[0]
    assert str(current.end_date.year) in cells(table, "End Date")[0]
    assert cells(table, "Auto-Renew")[0] in {"On", "Off"}


def test_subscription_history_shows_all_past_and_present_subscriptions(page, customer):
    """Subscription History: A table showing all past and present subscriptions: Package - The
    service package name; Status - Subscription status; Start Date - When it started; End
    Date - When it ended/expires; Amount - Price paid"""
    with scopes_disabled():
        subscriptions = list(customer.client.subscriptions.order_by("-start_date", "-pk"))
    history = page.get_by_role("heading", name="Subscription history").locator(
        "xpath=ancestor::*[.//table][1]"
    )
    table = history.locator("table")
    headers = column_headers(table)
    for term in ["Package", "Status", "Start Date", "End Date", "Amount"]:
        assert find_shown(term, headers), f"{term!r} not among {headers}"
    shown = min(len(subscriptions), 10)
    assert cells(table, "Package") == [s.package.name for s in subscriptions[:shown]]
    assert cells(table, "Amount") == [f"{s.amount_paid:,.2f}" for s in subscriptions[:shown]]
    statuses = set(cells(table, "Status"))
    assert statuses <= {"Active", "Expiring", "Expired", "Suspended", "Cancelled"}, statuses


def test_quick_stats(page, customer):
    """Quick Stats: Total Subscriptions - Number of subscriptions (past and present); Total
    Revenue - Sum of all subscription payments; Active Since - How long they've been a
    customer"""
    with scopes_disabled():
        subscriptions = customer.client.subscriptions.all()
        total = subscriptions.count()
        revenue = subscriptions.aggregate(sum=Sum("amount_paid"))["sum"] or Decimal(0)
        first = subscriptions.order_by("start_date").first().start_date
    stats = card(page, "Quick stats")
    expect(stats.get_by_text(re.compile("Total subscriptions", re.I))).to_be_visible()
    expect(stats.get_by_text(re.compile("Total revenue", re.I))).to_be_visible()
    expect(stats.get_by_text(re.compile("Active since", re.I))).to_be_visible()
    text = stats.inner_text()
    assert re.search(rf"^\s*{total}\s*$", text, re.M), text
    assert f"{revenue:,.2f}" in text
    assert str(first.year) in text


# -- Connection Status Indicators ------------------------------------------------------------
def test_online_client_is_currently_connected(page, customer):
    """🟢 Online - Client is currently connected"""
    expect(connection_status(page)).to_have_text(re.compile(r"Online"))


def test_offline_client_is_not_connected(page, routers):
    """🔴 Offline - Client is not connected"""
    client_page(page, routers["hung_up"].client)
    expect(connection_status(page)).to_have_text(re.compile(r"Offline"))


def test_unknown_status_cannot_be_determined_when_the_mikrotik_server_is_offline(page, demo):
    """⚪ Unknown - Status cannot be determined. Note: Connection status requires the MikroTik
    server to be online and accessible. Troubleshooting: "Connection status unavailable" This
    can happen if: The MikroTik server is offline"""
    with scopes_disabled():
        account = (
            PppoeAccount.objects.filter(tenant=demo["isp"], router__name=UNREACHABLE_ROUTER)
            .select_related("client")
            .order_by("pk")
            .first()
        )
        assert account.status == ConnectionStatus.UNKNOWN
    client_page(page, account.client)
    details = card(page, "Connection details")
    expect(connection_status(page)).to_have_text(re.compile(r"Unknown"))
    unavailable = details.get_by_text(re.compile("Connection status unavailable"))
    expect(unavailable).to_be_visible()
    reason = unavailable.inner_text().split("Connection status unavailable", 1)[1]
    assert len(reason.strip(" :\n")) > 3, "no reason is given"


def unavailable_account(demo, **where):
    with scopes_disabled():
        return (
            PppoeAccount.objects.filter(tenant=demo["isp"], status=ConnectionStatus.UNKNOWN)
            .filter(**where)
            .select_related("client")
            .order_by("pk")
            .first()
        )


@pytest.mark.parametrize(
    "case, reason",
    [
        ("the router is down", SERVER_OFFLINE),
        ("the router does not answer", NETWORK_ISSUE),
        ("the client never dialled in", NEVER_CONNECTED),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_connection_status_unavailable_says_why(page, demo, routers, case, reason):
    """Troubleshooting: "Connection status unavailable" This can happen if: The MikroTik
    server is offline; There's a network connectivity issue; The client has never
    connected."""
    where = {
        "the router is down": {"router__name": UNREACHABLE_ROUTER},
        "the router does not answer": {"router__name": STALLED_ROUTER},
        "the client never dialled in": {
            "router__name__in": LIVE_ROUTERS,
            "last_seen_at__isnull": True,
        },
    }[case]
    account = unavailable_account(demo, **where)
    assert account is not None, f"the demo has no client for which {case}"
    client_page(page, account.client)
    details = card(page, "Connection details")
    expect(details.get_by_text(re.compile("Connection status unavailable"))).to_contain_text(
        reason.reason
    )


# -- Available Actions -----------------------------------------------------------------------
def test_available_actions_from_the_client_details_page(page, customer):
    """Available Actions: From the client details page, you can: Edit; Create Subscription;
    View Subscription; Delete"""
    client_page(page, customer.client)
    actions = page.get_by_test_id("client-actions")
    for action in ["Edit", "Create subscription", "View subscription", "Delete"]:
        expect(actions.get_by_role("link", name=named(action))).to_be_visible()


def test_edit_modifies_client_information(page, customer):
    """Edit - Modify client information"""
    with refreshed(page):
        page.get_by_test_id("client-actions").get_by_role("link", name=named("Edit")).click()
    expect(page.get_by_label(re.compile(r"^Name\b"))).to_have_value(customer.client.name)
    page.go_back()


def test_create_subscription_adds_a_new_subscription(page, customer):
    """Create Subscription - Add a new subscription"""
    client_page(page, customer.client)
    actions = page.get_by_test_id("client-actions")
    with refreshed(page):
        actions.get_by_role("link", name=named("Create subscription")).click()
    expect(page.get_by_label(re.compile(r"^Package"))).to_be_visible()
    page.go_back()


def test_view_subscription_shows_subscription_details(page, customer):
    """View Subscription - See subscription details"""
    with scopes_disabled():
        package = customer.client.subscriptions.get(status=SubscriptionStatus.ACTIVE).package.name
    client_page(page, customer.client)
    actions = page.get_by_test_id("client-actions")
    with refreshed(page):
        actions.get_by_role("link", name=named("View subscription")).click()
    expect(page.get_by_text(package).first).to_be_visible()


# -- Deleting a Client -----------------------------------------------------------------------
def test_unable_to_delete_a_client_with_an_active_subscription(page, customer):
    """If the client has an active subscription, you must cancel it first. "Unable to delete
    client": Check if the client has an active subscription. Active subscriptions must be
    cancelled before the client can be deleted."""
    client_page(page, customer.client)
    with refreshed(page):
        page.get_by_test_id("client-actions").get_by_role("link", name=named("Delete")).click()
    expect(page.get_by_text("Unable to delete client")).to_be_visible()
    expect(page.get_by_text(re.compile("active subscription", re.I)).first).to_be_visible()
    with scopes_disabled():
        assert Client.objects.get(pk=customer.client.pk).status == ClientStatus.ACTIVE


def test_delete_a_client_without_an_active_subscription(page, client_to_delete):
    """To delete a client: Click the Delete button; Confirm the deletion. You can only delete a
    client if: They have no active subscription; All past subscriptions are completed"""
    client_page(page, client_to_delete)
    with refreshed(page):
        page.get_by_test_id("client-actions").get_by_role("link", name=named("Delete")).click()
    with refreshed(page):
        page.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_text(re.compile("deleted", re.I)).first).to_be_visible()
    with scopes_disabled():
        assert Client.objects.get(pk=client_to_delete.pk).status == ClientStatus.DELETED

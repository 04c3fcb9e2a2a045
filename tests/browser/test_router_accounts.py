"""The PPPoE accounts list and editing a router in Chromium: filter the accounts by router and
by status, open a client's Connection tab from the list; rename a router with the password left
empty, which keeps the stored one."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from routers.models import Router
from tests.factories import (
    ROUTER_TEST_PASSWORD,
    ClientFactory,
    MembershipFactory,
    PppoeAccountFactory,
    RouterFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#table-region tbody tr"


def test_accounts_list_filters_and_router_edit(page, log_in):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    north = RouterFactory(tenant=tenant, name="North Tower")
    south = RouterFactory(tenant=tenant, name="South Tower")
    alice = ClientFactory(tenant=tenant, name="Alice Online")
    PppoeAccountFactory(
        tenant=tenant, client=alice, router=north, username="alice-ppp", status="online"
    )
    PppoeAccountFactory(
        tenant=tenant,
        client=ClientFactory(tenant=tenant, name="Bob Offline"),
        router=south,
        username="bob-ppp",
        status="offline",
    )

    log_in(membership.user.username)
    page.get_by_role("link", name="Routers", exact=True).click()
    page.get_by_role("link", name="PPPoE accounts").click()
    page.wait_for_load_state("load")  # the filter form refreshes the table once HTMX bound it
    expect(page.get_by_role("heading", name="PPPoE accounts")).to_be_visible()
    expect(page.locator(ROWS)).to_have_count(2)

    filters = page.get_by_test_id("filter-form")
    filters.get_by_label("Router").select_option(label="South Tower")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS)).to_contain_text("bob-ppp")
    filters.get_by_label("Router").select_option(label="Any router")
    filters.get_by_label("Status").select_option("online")
    expect(page.locator(ROWS)).to_have_count(1)
    row = page.locator(ROWS).first
    expect(row).to_contain_text("alice-ppp")
    expect(row.locator('[data-connection="online"]')).to_be_visible()

    page.wait_for_load_state("networkidle")  # no filter answer still on its way to swap the row
    row.get_by_role("link", name=f"#{alice.number} Alice Online").click()
    expect(page.get_by_test_id("connection-details")).to_contain_text("alice-ppp")

    page.get_by_role("link", name="Routers", exact=True).click()
    page.locator(ROWS, has_text="North Tower").get_by_role("link", name="North Tower").click()
    form = page.get_by_test_id("router-form")
    expect(form.locator("#id_password")).to_have_value("")
    form.locator("#id_name").fill("North Tower 2")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Router “North Tower 2” saved.")
    expect(page.locator(ROWS, has_text="North Tower 2")).to_have_count(1)
    with scopes_disabled():
        router = Router.objects.get(pk=north.pk)
    assert router.name == "North Tower 2"
    assert router.password == ROUTER_TEST_PASSWORD

"""The dashboard in Chromium: clients counted by status, a subscription ending within the
window listed with a link to its client, and the expiring count leading to the filtered list."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from subscriptions.models import tenant_today
from tests.factories import ClientFactory, MembershipFactory, SubscriptionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_counts_statuses_and_lists_expiring_subscriptions(page, log_in):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    today = tenant_today(tenant)
    soon = ClientFactory(tenant=tenant, name="Ends Soon")
    SubscriptionFactory(tenant=tenant, client=soon, end_date=today + timedelta(days=3))
    later = ClientFactory(tenant=tenant, name="Ends Later")
    SubscriptionFactory(tenant=tenant, client=later, end_date=today + timedelta(days=60))
    ClientFactory(tenant=tenant, name="On Hold", status="administrative_hold")

    log_in(membership.user.username)
    page.goto("/dashboard/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    by_status = page.get_by_test_id("clients-by-status")
    expect(by_status.locator('[data-status-count="active"]')).to_have_text("2")
    expect(by_status.locator('[data-status-count="administrative_hold"]')).to_have_text("1")
    expect(by_status.locator('[data-status-count="deleted"]')).to_have_text("0")

    expiring = page.get_by_test_id("expiring-table")
    expect(expiring.locator("tbody tr")).to_have_count(1)
    expect(expiring).to_contain_text("Ends Soon")
    expect(expiring).not_to_contain_text("Ends Later")
    expect(page.get_by_test_id("holds-today-count")).to_have_text("0")

    page.get_by_test_id("expiring-count").click()
    expect(page).to_have_url("/clients/?expiring=7")
    table = page.locator("#table-region")
    expect(table).to_contain_text("Ends Soon")
    expect(table).not_to_contain_text("Ends Later")

    page.go_back()
    page.get_by_test_id("expiring-table").get_by_role("link", name="Ends Soon").click()
    expect(page.locator("h1")).to_contain_text("Ends Soon")

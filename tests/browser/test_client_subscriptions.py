"""A client's Subscriptions tab in Chromium: the history filtered by status and by package,
then a subscription's page where a manager turns auto-renew on."""

from datetime import timedelta

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from subscriptions.models import Subscription, tenant_today
from tests.factories import ClientFactory, MembershipFactory, PackageFactory, SubscriptionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = "#table-region tbody tr"


def test_history_filters_and_auto_renew(page, log_in):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    today = tenant_today(tenant)
    customer = ClientFactory(tenant=tenant, name="Long Customer")
    basic = PackageFactory(tenant=tenant, name="Basic 20")
    fiber = PackageFactory(tenant=tenant, name="Fiber 500")
    SubscriptionFactory(
        tenant=tenant,
        client=customer,
        package=basic,
        status="expired",
        start_date=today - timedelta(days=90),
        end_date=today - timedelta(days=60),
    )
    current = SubscriptionFactory(
        tenant=tenant,
        client=customer,
        package=fiber,
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=20),
        auto_renew=False,
    )

    log_in(membership.user.username)
    page.goto(customer.get_absolute_url())
    page.get_by_test_id("client-tabs").get_by_role("link", name="Subscriptions").click()
    expect(page.locator(ROWS)).to_have_count(2)
    # The filter form refreshes the table once HTMX has bound it, when the page's scripts
    # (the language catalogue among them) have loaded.
    page.wait_for_load_state("load")

    filters = page.get_by_test_id("filter-form")
    filters.get_by_label("Status").select_option("expired")
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page.locator(ROWS)).to_contain_text("Basic 20")
    filters.get_by_label("Status").select_option("")
    filters.get_by_label("Package").select_option(label="Fiber 500")
    expect(page.locator(ROWS)).to_have_count(1)
    row = page.locator(ROWS).first
    expect(row).to_contain_text("Fiber 500")

    row.get_by_test_id("subscription-view").click()
    form = page.get_by_test_id("auto-renew-form")
    expect(form.get_by_label("Auto-renew")).not_to_be_checked()
    form.get_by_label("Auto-renew").check()
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Auto-renew is on for Fiber 500.")
    expect(page.get_by_test_id("auto-renew-form").get_by_label("Auto-renew")).to_be_checked()
    with scopes_disabled():
        assert Subscription.objects.get(pk=current.pk).auto_renew

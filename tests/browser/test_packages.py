"""Packages in Chromium: a manager creates a package (a bad rate limit first, explained next
to the field), edits its price, retires it and puts it back on sale."""

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from subscriptions.models import Package
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_edit_retire_and_reactivate_a_package(page, log_in):
    membership = MembershipFactory(role="manager")
    log_in(membership.user.username)
    page.get_by_role("link", name="Packages", exact=True).click()
    page.get_by_test_id("package-create").click()

    form = page.get_by_test_id("package-form")
    form.locator("#id_name").fill("Fiber 300")
    form.locator("#id_price").fill("35.00")
    form.locator("#id_period_count").fill("1")
    form.locator("#id_period_unit").select_option("months")
    form.locator("#id_rate_limit").fill("fast please")
    form.locator("#id_pppoe_profile").fill("fiber300")
    form.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field-error="rate_limit"]')).to_contain_text("20M/100M")
    with scopes_disabled():
        assert not Package.objects.filter(name="Fiber 300").exists()

    form = page.get_by_test_id("package-form")
    form.locator("#id_rate_limit").fill("30M/300M")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Package “Fiber 300” saved.")
    row = page.locator("#table-region tbody tr", has_text="Fiber 300")
    expect(row).to_contain_text("30M/300M")
    expect(row).to_contain_text("On sale")

    row.get_by_role("link", name="Fiber 300").click()
    expect(page.get_by_role("heading", name="Edit package")).to_be_visible()
    page.get_by_test_id("package-form").locator("#id_price").fill("39.90")
    page.get_by_test_id("package-form").get_by_role("button", name="Save").click()
    row = page.locator("#table-region tbody tr", has_text="Fiber 300")
    expect(row).to_contain_text("39.90")
    with scopes_disabled():
        assert Package.objects.get(name="Fiber 300").price == Decimal("39.90")

    row.get_by_role("link", name="Fiber 300").click()
    page.get_by_test_id("package-retire-form").get_by_role("button", name="Retire package").click()
    expect(page.locator(".alert-success")).to_contain_text("retired")
    expect(page.get_by_test_id("retired")).to_be_visible()
    with scopes_disabled():
        assert not Package.objects.get(name="Fiber 300").is_active

    page.get_by_test_id("package-reactivate-form").get_by_role("button").click()
    expect(page.locator(".alert-success")).to_contain_text("on sale again")
    expect(page.get_by_test_id("package-retire-form")).to_be_visible()
    with scopes_disabled():
        assert Package.objects.get(name="Fiber 300").is_active

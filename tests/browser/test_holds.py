"""Holds in Chromium: a manager puts a client on administrative hold with a reason, sees its
subscription suspended and the status badge change, then releases it; the dashboard counts it."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from subscriptions.models import tenant_today
from tests.factories import ClientFactory, MembershipFactory, SubscriptionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_hold_suspends_and_release_resumes(page, log_in):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    customer = ClientFactory(tenant=tenant, name="Paused Person")
    SubscriptionFactory(
        tenant=tenant, client=customer, end_date=tenant_today(tenant) + timedelta(days=20)
    )

    log_in(membership.user.username)
    page.goto(customer.get_absolute_url())
    current = page.get_by_test_id("current-subscription")
    expect(current.locator('[data-subscription-status="active"]')).to_be_visible()

    page.get_by_test_id("hold-place").click()  # no reason: the browser asks for one
    assert page.get_by_test_id("hold-reason").evaluate("e => !e.validity.valid")
    page.get_by_test_id("hold-reason").fill("Equipment check on site")
    page.get_by_test_id("hold-place").click()
    page.wait_for_load_state("networkidle")
    assert "administrative hold" in page.locator(".alert-success").inner_text()
    expect(
        page.locator('h1 ~ [data-field=status] [data-status="administrative_hold"]')
    ).to_be_visible()
    current = page.get_by_test_id("current-subscription")
    expect(current.locator('[data-subscription-status="suspended"]')).to_be_visible()
    assert "Equipment check on site" in page.get_by_test_id("client-holds").inner_text()
    assert "Administrative hold set" in page.get_by_test_id("activity").inner_text()

    page.goto("/dashboard/")
    assert page.get_by_test_id("holds-today-count").inner_text() == "1"
    page.get_by_test_id("holds-today-table").get_by_role("link", name="Paused Person").click()
    page.wait_for_load_state("networkidle")

    page.get_by_test_id("hold-reason").fill("Check done")
    page.get_by_test_id("hold-release").click()
    page.wait_for_load_state("networkidle")
    assert "released" in page.locator(".alert-success").inner_text()
    expect(page.locator('h1 ~ [data-field=status] [data-status="active"]')).to_be_visible()
    current = page.get_by_test_id("current-subscription")
    expect(current.locator('[data-subscription-status="active"]')).to_be_visible()
    expect(page.get_by_test_id("no-holds")).to_be_visible()

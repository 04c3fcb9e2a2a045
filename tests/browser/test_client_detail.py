"""The client page in Chromium: open a client from the list, buy a subscription, see it
current with the balance lowered, cancel it with a refund, delete the client."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.factories import ClientFactory, MembershipFactory, PackageFactory, make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_buy_cancel_and_delete(page, log_in):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    customer = ClientFactory(tenant=tenant, name="Browser Buyer")
    make_account(customer, balance="100")
    PackageFactory(tenant=tenant, name="Fiber 500", price=Decimal("40.00"))

    log_in(membership.user.username)
    page.goto("/clients/")
    page.get_by_test_id("client-link").filter(has_text="Browser Buyer").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("no-subscription")).to_be_visible()
    assert page.get_by_test_id("client-balance").inner_text() == "100.00 EUR"

    page.get_by_test_id("subscription-create").click()
    form = page.get_by_test_id("subscription-form")
    form.get_by_label("Package").select_option(label="Fiber 500 — 40.00 per 1 month")
    form.get_by_label("Auto-renew").check()
    page.get_by_test_id("buy").click()
    page.wait_for_load_state("networkidle")

    assert "Subscription Fiber 500 created" in page.locator(".alert-success").inner_text()
    current = page.get_by_test_id("current-subscription")
    assert "Fiber 500" in current.inner_text()
    expect(current.locator('[data-subscription-status="active"]')).to_be_visible()
    assert page.get_by_test_id("client-balance").inner_text() == "60.00 EUR"
    assert page.get_by_test_id("stat-total").inner_text() == "1"
    assert "Subscription Fiber 500 bought" in page.get_by_test_id("activity").inner_text()

    page.get_by_test_id("client-delete").click()  # refused while the subscription is active
    assert page.get_by_test_id("unable-to-delete").inner_text() == "Unable to delete client"
    page.get_by_test_id("delete-blocker").get_by_role("link", name="View subscription").click()
    assert "Subscription purchase" in page.get_by_test_id("ledger-entries").inner_text()
    assert "Subscription purchase" in page.get_by_test_id("ledger-entries").inner_text()
    page.get_by_test_id("subscription-cancel").click()
    form = page.get_by_test_id("cancel-form")
    page.get_by_test_id("confirm-cancel").click()  # no reason: refused next to the field
    assert "Say why" in page.locator('[data-field-error="cancel-reason"]').inner_text()
    form = page.get_by_test_id("cancel-form")
    form.get_by_label("Reason").fill("Moving abroad")
    form.get_by_label("Refund the unused part").check()
    page.get_by_test_id("confirm-cancel").click()
    page.wait_for_load_state("networkidle")
    assert "cancelled" in page.locator(".alert-success").inner_text()
    current = page.get_by_test_id("current-subscription")
    expect(current.locator('[data-subscription-status="cancelled"]')).to_be_visible()
    balance = Decimal(page.get_by_test_id("client-balance").inner_text().split()[0])
    assert Decimal("60.00") < balance <= Decimal("100.00")

    page.get_by_test_id("client-delete").click()
    page.get_by_test_id("confirm-delete").click()
    page.wait_for_load_state("networkidle")
    assert "deleted" in page.locator(".alert-success").inner_text()
    expect(page.get_by_test_id("tombstone")).to_be_visible()
    expect(page.locator('[data-status="deleted"]').first).to_be_visible()


def test_order_subscription_for_a_new_client(page, log_in):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    PackageFactory(tenant=tenant, name="Trial", price=Decimal("0.00"))
    log_in(membership.user.username)
    page.goto("/clients/")
    page.get_by_test_id("order-subscription").click()
    form = page.get_by_test_id("order-form")
    expect(form.locator("#id_client-name")).to_be_hidden()  # the new-client part shows on demand
    form.get_by_label("New client").check()
    expect(form.get_by_label("Client ID")).to_be_hidden()
    form.locator("#id_client-name").fill("Ordered Online Ltd")
    form.get_by_label("Package").select_option(label="Trial — 0.00 per 1 month")
    page.get_by_test_id("order-submit").click()
    page.wait_for_load_state("networkidle")
    assert "Subscription Trial created" in page.locator(".alert-success").inner_text()
    assert page.locator("h1").inner_text().startswith("Ordered Online Ltd")
    assert (
        page.get_by_test_id("current-subscription")
        .locator('[data-subscription-status="active"]')
        .is_visible()
    )


def test_order_subscription_picks_an_existing_client_from_suggestions(page, log_in):
    membership = MembershipFactory(role="manager")
    tenant = membership.tenant
    customer = ClientFactory(tenant=tenant, name="Suggested Customer")
    make_account(customer, balance="50")
    PackageFactory(tenant=tenant, name="Home 50", price=Decimal("25.00"))
    log_in(membership.user.username)
    page.goto("/subscriptions/order/")
    page.get_by_test_id("order-client-search").fill("Suggested")
    suggestion = page.get_by_test_id("order-client-suggestions").get_by_test_id("suggestion")
    suggestion.first.click()
    assert page.locator("#id_order-client_number").input_value() == str(customer.number)
    page.get_by_test_id("order-form").get_by_label("Package").select_option(
        label="Home 50 — 25.00 per 1 month"
    )
    page.get_by_test_id("order-submit").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text().startswith("Suggested Customer")
    assert page.get_by_test_id("client-balance").inner_text() == "25.00 EUR"


def test_activity_page_lists_every_line_and_pages(page, log_in):
    from datetime import timedelta

    from django.utils import timezone
    from django_scopes import scopes_disabled

    from events.models import Event

    membership = MembershipFactory(role="viewer")
    customer = ClientFactory(tenant=membership.tenant, name="Busy Client")
    with scopes_disabled():
        for i in range(12):
            Event.objects.create(
                tenant=membership.tenant,
                client_id=customer.pk,
                type="client.updated",
                description=f"Edit {i}",
                created_at=timezone.now() - timedelta(minutes=100 - i),
            )

    log_in(membership.user.username)
    page.goto(customer.get_absolute_url())
    page.get_by_test_id("activity-all").click()
    region = page.locator("#table-region")
    expect(region).to_contain_text("Edit 11")
    expect(region).not_to_contain_text("Edit 0")

    page.locator("a[rel=next]").click()  # HTMX: the URL follows
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(region).to_contain_text("Edit 0")
    expect(region).not_to_contain_text("Edit 11")

"""Set credit on a client's Finance tab in Chromium: a negative amount is refused next to the
field, then the new limit shows with the available amount and the change in the history."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import ClientFactory, MembershipFactory, make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_accountant_sets_a_credit_limit(page, log_in):
    membership = MembershipFactory(role="accountant")
    customer = ClientFactory(tenant=membership.tenant, name="Credit Customer")
    account = make_account(customer, balance="20")

    log_in(membership.user.username)
    page.goto(reverse("billing:client_finance", kwargs={"number": customer.number}))
    expect(page.get_by_test_id("credit-limit")).to_have_text("0.00 EUR")

    form = page.get_by_test_id("credit-form")
    form.get_by_label("Amount").fill("-50")
    form.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field-error="credit-amount"]')).to_have_text(
        "The amount cannot be negative."
    )
    expect(page.get_by_test_id("credit-limit")).to_have_text("0.00 EUR")

    form = page.get_by_test_id("credit-form")
    form.get_by_label("Amount").fill("50")
    form.get_by_label("Notify customer").check()
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Credit limit set to 50.00 EUR.")
    expect(page.locator(".alert-success")).to_contain_text("will be notified")
    expect(page.get_by_test_id("credit-limit")).to_have_text("50.00 EUR")
    expect(page.get_by_test_id("available")).to_have_text("70.00 EUR")
    expect(page.get_by_test_id("credit-history")).to_contain_text("0.00 → 50.00")
    account.refresh_from_db()
    assert account.credit_limit == Decimal("50.00") and account.balance == Decimal("20.00")

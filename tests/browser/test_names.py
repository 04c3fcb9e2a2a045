"""A messaging client's Names tab in Chromium: a manager adds a sender ID (a bad name first,
explained next to the field), edits it, approves it, rejects it (a reason is required) and
blocks it."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from messaging.models import SenderId
from tests.factories import ClientFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sender_status():
    with scopes_disabled():
        return SenderId.objects.get(name="ShopNews").status


def test_add_edit_and_decide_a_sender_id(page, log_in):
    membership = MembershipFactory(role="manager")
    customer = ClientFactory(tenant=membership.tenant, name="Texting Shop")
    log_in(membership.user.username)
    page.goto(customer.get_absolute_url())
    page.get_by_test_id("client-tabs").get_by_role("link", name="Names").click()
    expect(page.get_by_test_id("names-tab")).to_be_visible()

    page.get_by_test_id("add-sender").click()
    form = page.get_by_test_id("sender-form")
    form.get_by_label("Name").fill("Shop News!")
    form.get_by_label("Channel").select_option("sms")
    form.get_by_label("Purpose").fill("Order notifications")
    form.get_by_label("Sample text").fill("Your order 123 has shipped.")
    form.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field-error="name"]')).to_contain_text("Use Latin letters")
    with scopes_disabled():
        assert not SenderId.objects.filter(client=customer).exists()

    form = page.get_by_test_id("sender-form")
    form.get_by_label("Name").fill("ShopNews")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Sender ID ShopNews added")
    row = page.get_by_test_id("sender-table").locator("tbody tr", has_text="ShopNews")
    expect(row.get_by_test_id("sender-status")).to_have_text("Pending")
    expect(row.get_by_test_id("questionnaire")).to_have_text("Incomplete")

    row.get_by_test_id("sender-edit").click()
    form = page.get_by_test_id("sender-form")
    form.get_by_label("Company documents").fill("Company registration extract")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Sender ID ShopNews saved.")
    row = page.get_by_test_id("sender-table").locator("tbody tr", has_text="ShopNews")
    expect(row.get_by_test_id("questionnaire")).to_have_text("Complete")

    row.get_by_test_id("sender-approve").click()
    expect(page.locator(".alert-success")).to_contain_text("ShopNews is now Approved")
    row = page.get_by_test_id("sender-table").locator("tbody tr", has_text="ShopNews")
    expect(row.get_by_test_id("sender-status")).to_have_text("Approved")
    assert sender_status() == "approved"

    row.get_by_test_id("sender-reject").click()  # no reason: refused next to the field
    error = page.get_by_test_id("decision-error")
    expect(error.locator('[data-field-error="reason"]')).to_contain_text("reason for the rejection")
    assert sender_status() == "approved"
    error.get_by_label("Reason").fill("Brand not owned")
    error.get_by_role("button", name="Try again").click()
    expect(page.locator(".alert-success")).to_contain_text("ShopNews is now Rejected")
    row = page.get_by_test_id("sender-table").locator("tbody tr", has_text="ShopNews")
    expect(row).to_contain_text("Brand not owned")
    assert sender_status() == "rejected"

    row.get_by_test_id("sender-block").click()
    expect(page.locator(".alert-success")).to_contain_text("ShopNews is now Blocked")
    row = page.get_by_test_id("sender-table").locator("tbody tr", has_text="ShopNews")
    expect(row.get_by_test_id("sender-status")).to_have_text("Blocked")
    assert sender_status() == "blocked"

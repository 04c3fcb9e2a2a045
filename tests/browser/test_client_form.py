"""New client, Edit client and the client's Activity page in Chromium: a manager creates a
client (a bad phone first, explained next to the field), lands on its page, edits it, turns its
SMS subscription on, and sees every change in the whole activity timeline."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clients.models import Client
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_edit_and_see_the_activity(page, log_in):
    membership = MembershipFactory(role="manager")
    log_in(membership.user.username)
    page.goto("/clients/")
    page.get_by_test_id("client-create").click()

    form = page.get_by_test_id("client-form")
    form.locator("#id_name").fill("Harbour Cafe")
    form.locator("#id_company").fill("Harbour Cafe GmbH")
    form.locator("#id_country").fill("DE")
    form.locator("#id_login").fill("call me maybe")
    form.locator("#id_email").fill("owner@harbour.example")
    form.get_by_role("button", name="Create client").click()
    expect(page.locator('[data-field-error="login"]')).to_contain_text("international format")
    with scopes_disabled():
        assert not Client.objects.filter(name="Harbour Cafe").exists()

    form = page.get_by_test_id("client-form")
    expect(form.locator("#id_name")).to_have_value("Harbour Cafe")  # the rest is kept
    form.locator("#id_login").fill("+49 151 23456789")
    form.get_by_role("button", name="Create client").click()
    expect(page.locator(".alert-success")).to_contain_text("Harbour Cafe created.")
    expect(page.locator("h1")).to_contain_text("Harbour Cafe")
    with scopes_disabled():
        client = Client.objects.get(name="Harbour Cafe")
    assert client.login == "+4915123456789" and client.tenant == membership.tenant

    page.get_by_test_id("client-edit").click()
    form = page.get_by_test_id("client-edit-form")
    expect(form.locator("#id_login")).to_have_value("+4915123456789")
    form.locator("#id_email").fill("bad-email")
    form.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field-error="email"]')).to_be_visible()
    form = page.get_by_test_id("client-edit-form")
    form.locator("#id_email").fill("hello@harbour.example")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Harbour Cafe saved.")
    client.refresh_from_db()
    assert client.email == "hello@harbour.example"

    sms = page.get_by_test_id("sms-subscription-form")
    sms.get_by_label("SMS subscription").check()
    sms.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("SMS subscription is on.")
    expect(
        page.get_by_test_id("sms-subscription-form").get_by_label("SMS subscription")
    ).to_be_checked()
    client.refresh_from_db()
    assert client.sms_subscription

    page.get_by_test_id("activity-all").click()
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    rows = page.locator("#table-region tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("hello@harbour.example")
    expect(page.locator('#table-region [data-activity="client.created"]')).to_contain_text(
        "Client created"
    )

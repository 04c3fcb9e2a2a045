"""The second factor and the sessions page in a real browser."""

import re

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from playwright.sync_api import expect

from tests.browsing import give_second_factor
from tests.factories import TEST_PASSWORD, MembershipFactory, TenantFactory
from tests.helpers import totp_code, totp_device_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_through_the_second_factor(page, log_in):
    me = MembershipFactory(tenant=TenantFactory(name="Alpha Networks"))
    device = totp_device_for(me.user)
    page.goto("/clients/")
    log_in(me.user.username)
    expect(page).to_have_url(re.compile(r"/account/two-factor/verify/"))
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()

    give_second_factor(page, "000000")
    expect(page.locator('[data-field-error="code"]')).to_contain_text("That code is not right.")
    page.wait_for_timeout(1100)  # one wrong code: the next try waits a second
    give_second_factor(page, totp_code(device))
    expect(page).to_have_url(re.compile(r"/clients/$"))
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    page.goto("/account/")
    expect(page.get_by_test_id("account-two-factor")).to_have_text("on")


def test_sessions_page_ends_another_session(page, log_in):
    me = MembershipFactory(tenant=TenantFactory(name="Alpha Networks"))
    elsewhere = HttpClient(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1")
    elsewhere.post(reverse("login"), {"username": me.user.username, "password": TEST_PASSWORD})
    log_in(me.user.username)
    page.goto("/account/")
    page.get_by_role("link", name="Sessions").click()
    rows = page.get_by_test_id("session-row")
    expect(rows).to_have_count(2)
    expect(page.locator("[data-current]")).to_contain_text("This session")
    other = rows.filter(has_text="Safari on iPhone")
    other.get_by_role("button", name="End").click()
    expect(page.get_by_text("The session is ended.")).to_be_visible()
    expect(rows).to_have_count(1)
    assert elsewhere.get(reverse("clients:client_list")).status_code == 302

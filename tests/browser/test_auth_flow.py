"""Log in, switch tenant, log out, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import ClientFactory, MembershipFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_in_switch_tenant_log_out(page, log_in):
    first = TenantFactory(name="Alpha Networks")
    second = TenantFactory(name="Beta Messaging")
    me = MembershipFactory(tenant=first, role="owner")
    MembershipFactory(tenant=second, user=me.user, role="viewer")
    ClientFactory(tenant=first, name="Client of Alpha")
    ClientFactory(tenant=second, name="Client of Beta")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))
    log_in(me.user.username)
    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    expect(page.get_by_text("Client of Alpha")).to_be_visible()
    expect(page.get_by_text("Client of Beta")).to_have_count(0)

    page.get_by_test_id("tenant-switcher").click()
    page.get_by_role("button", name="Beta Messaging").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Now working in Beta Messaging.")).to_be_visible()
    expect(page.get_by_text("Client of Beta")).to_be_visible()
    expect(page.get_by_text("Client of Alpha")).to_have_count(0)
    # A viewer in Beta: no Operators section.
    expect(page.get_by_role("link", name="Operators")).to_have_count(0)

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")
    page.goto("/clients/")
    expect(page).to_have_url(re.compile(r"/login/"))


def test_wrong_password_shows_an_error(page, log_in):
    me = MembershipFactory(tenant=TenantFactory())
    log_in(me.user.username, "not-the-password")
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()

"""Log in, switch tenant, log out, in a real browser."""

import pytest

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
    assert "/login/" in page.url
    log_in(me.user.username)
    assert page.get_by_role("heading", name="Clients").is_visible()
    assert page.get_by_text("Client of Alpha").is_visible()
    assert page.get_by_text("Client of Beta").count() == 0

    page.get_by_test_id("tenant-switcher").click()
    page.get_by_role("button", name="Beta Messaging").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("Now working in Beta Messaging.").is_visible()
    assert page.get_by_text("Client of Beta").is_visible()
    assert page.get_by_text("Client of Alpha").count() == 0
    # A viewer in Beta: no Operators section.
    assert page.get_by_role("link", name="Operators").count() == 0

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")
    page.goto("/clients/")
    assert "/login/" in page.url


def test_wrong_password_shows_an_error(page, log_in):
    me = MembershipFactory(tenant=TenantFactory())
    log_in(me.user.username, "not-the-password")
    assert "/login/" in page.url
    assert page.get_by_text("Please enter a correct username and password").is_visible()

"""Change password in Chromium: from the user menu, a wrong current password first (explained
next to the field), then the change; the session stays, and the new password logs in."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import TEST_PASSWORD, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Fresh-harbour-lights-77"


def test_change_password_then_log_in_with_the_new_one(page, log_in):
    membership = MembershipFactory(role="viewer")
    user = membership.user
    log_in(user.username)
    page.get_by_test_id("user-menu").click()
    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()

    page.get_by_label("Old password").fill("not-my-password")
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator('[data-field-error="old_password"]')).to_contain_text("incorrectly")
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)

    page.get_by_label("Old password").fill(TEST_PASSWORD)
    page.locator("#id_new_password1").fill(NEW_PASSWORD)
    page.locator("#id_new_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    page.goto("/clients/")  # still logged in: the session was kept
    expect(page.get_by_test_id("user-menu")).to_contain_text(user.username)
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")
    log_in(user.username, TEST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/login/"))
    log_in(user.username, NEW_PASSWORD)
    expect(page.get_by_test_id("user-menu")).to_contain_text(user.username)


def test_my_account_changes_my_name_and_email_in_every_tenant(page, log_in):
    """A person who works in two tenants changes their own name and e-mail (a bad one first)."""
    first = MembershipFactory(role="viewer")
    MembershipFactory(role="owner", user=first.user)
    log_in(first.user.username)
    page.get_by_test_id("user-menu").click()
    page.get_by_role("link", name="My account").click()
    expect(page.get_by_role("heading", name="My account")).to_be_visible()
    page.get_by_label("E-mail").fill("not-an-email")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field-error="email"]')).to_be_visible()
    page.get_by_label("First name").fill("Maria")
    page.get_by_label("E-mail").fill("maria@example.com")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your details are saved.")).to_be_visible()
    first.user.refresh_from_db()
    assert (first.user.first_name, first.user.email) == ("Maria", "maria@example.com")

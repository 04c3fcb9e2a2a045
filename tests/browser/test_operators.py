"""An owner adds an operator, changes the role, and sees a bad field explained."""

import pytest
from django.contrib.auth import get_user_model
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tenancy.models import Membership
from tests.factories import MembershipFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_adds_and_edits_an_operator(page, log_in):
    owner = MembershipFactory(
        tenant=TenantFactory(name="Alpha Networks", slug="alpha"), role="owner"
    )
    log_in(owner.user.username)
    page.get_by_role("link", name="Operators").click()
    page.get_by_role("link", name="Add operator").click()
    expect(page.get_by_test_id("suffix-username")).to_have_text("@alpha")
    page.fill("#id_username", "night.shift")
    page.fill("#id_email", "not-an-email")
    page.select_option("#id_role", "manager")
    page.fill("#id_password1", "Str0ng-enough-pass")
    page.fill("#id_password2", "Str0ng-enough-pass")
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field-error="email"]')).to_be_visible()
    assert not get_user_model().objects.filter(username__startswith="night.shift").exists()

    page.fill("#id_email", "night.shift@example.com")
    page.fill("#id_password1", "Str0ng-enough-pass")
    page.fill("#id_password2", "Str0ng-enough-pass")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Operator night.shift@alpha added.")).to_be_visible()

    page.get_by_role("link", name="night.shift@alpha").click()
    page.select_option("#id_role", "accountant")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Operator night.shift@alpha saved.")).to_be_visible()
    with scopes_disabled():
        assert Membership.objects.get(user__username="night.shift@alpha").role == "accountant"

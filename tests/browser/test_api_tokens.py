"""An owner creates an API token, an integration uses it over HTTP, the owner sees its last
use and revokes it; the API's interactive documentation runs under the page policy."""

import pytest
import requests
from playwright.sync_api import expect

from tests.factories import MembershipFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_owner_creates_uses_and_revokes_a_token(page, log_in, live_server):
    tenant = TenantFactory(name="Gateway Co", slug="gateway", uses_reseller=False)
    owner = MembershipFactory(tenant=tenant, role="owner")
    log_in(owner.user.username)
    page.get_by_role("link", name="API tokens").click()
    page.get_by_role("link", name="Create token").click()
    page.get_by_role("button", name="Create").click()
    expect(page.locator('[data-field-error="name"]')).to_be_visible()
    page.fill("#id_name", "Payment gateway")
    page.select_option("#id_scope", "accountant")
    page.get_by_role("button", name="Create").click()
    secret = page.get_by_test_id("token-secret").inner_text().strip()
    assert secret.startswith("cd_")

    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {secret}"
        answer = http.get(f"{live_server.url}/api/v1/clients/", timeout=30)
        assert answer.status_code == 200, answer.text

        page.get_by_role("link", name="Back to API tokens").click()
        row = page.get_by_role("row", name="Payment gateway")
        expect(row.get_by_test_id("token-state")).to_have_text("Active")
        expect(row.get_by_test_id("last-used")).not_to_have_text("never")
        row.get_by_role("button", name="Revoke").click()
        expect(page.get_by_text("Token Payment gateway revoked")).to_be_visible()
        expect(row.get_by_test_id("token-state")).to_have_text("Revoked")
        refused = http.get(f"{live_server.url}/api/v1/clients/", timeout=30)
        assert refused.status_code == 401


def test_api_documentation_is_served_from_static(page, live_server):
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.get_by_text("Clientdesk API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/clients/{number}/top-up/").first).to_be_visible()

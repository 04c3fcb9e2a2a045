"""403, 404 and 500 are pages of the portal (its layout, a way back), and a superuser who is no
operator lands on the administration after logging in, not on a refusal."""

from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from tests.factories import UserFactory


def test_unknown_page_is_a_404_in_the_portal_layout(client, owner):
    response = client.get("/clients/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert 'data-testid="error-page" data-status="404"' in body
    assert 'data-testid="user-menu"' in body  # the portal's navigation is there
    assert f'href="{reverse("home")}"' in body


def test_refused_role_is_a_403_in_the_portal_layout(client, tenant, login_as):
    login_as(tenant, "viewer")
    response = client.get(reverse("tenancy:operator_list"))
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-status="403"' in body and "Back to the client list" in body


def test_server_error_page_needs_no_request_context(db):
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert 'data-status="500"' in body and 'href="/"' in body


def test_superuser_without_membership_lands_on_the_administration(client, db):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("admin:index")


def test_operator_without_tenant_is_told_why(client, db):
    client.force_login(UserFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "not an active operator" in response.content.decode()

"""The API tokens page: owners create tokens (the secret shown once, stored hashed), see when
each was last used and revoke them; bad input is explained next to its field and changes
nothing; other roles and other tenants' tokens are refused."""

import hashlib

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from tenancy.models import ApiToken
from tenancy.services import api_token_authenticate, api_token_create
from tests.helpers import field_errors

pytestmark = pytest.mark.django_db

VALID = {"name": "Payment gateway", "scope": "accountant", "expires_on": ""}


def tokens_of(tenant):
    with scopes_disabled():
        return list(ApiToken.objects.filter(tenant=tenant))


def test_owner_creates_a_token_shown_once_and_stored_hashed(client, owner):
    response = client.post(reverse("tenancy:api_token_create"), VALID)
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    (token,) = tokens_of(owner.tenant)
    secret = response.context["issued"].secret
    assert secret in response.content.decode()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.for_tenant(owner.tenant).values().get())
    listed = client.get(reverse("tenancy:api_token_list")).content.decode()
    assert "Payment gateway" in listed and secret not in listed and token.prefix in listed
    assert api_token_authenticate(secret).pk == token.pk


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "\x00\x01"}, "name"),
        ({"scope": "superuser"}, "scope"),
        ({"scope": ""}, "scope"),
        ({"expires_on": "2001-01-01"}, "expires_on"),
        ({"expires_on": "31.02.2030"}, "expires_on"),
        ({"expires_on": "99999-12-31"}, "expires_on"),
    ],
)
def test_bad_input_is_shown_next_to_the_field(client, owner, changes, field):
    response = client.post(reverse("tenancy:api_token_create"), {**VALID, **changes})
    assert response.status_code == 400
    assert field_errors(response, field)
    assert tokens_of(owner.tenant) == []


def test_owner_revokes_and_the_token_stops_working(client, owner):
    issued = api_token_create(tenant=owner.tenant, actor=None, name="Old", scope="viewer")
    response = client.post(reverse("tenancy:api_token_revoke", kwargs={"pk": issued.token.pk}))
    assert response.status_code == 302
    assert api_token_authenticate(issued.secret) is None
    assert "Revoked" in client.get(reverse("tenancy:api_token_list")).content.decode()


def test_other_tenants_tokens_are_404(client, owner, other_tenant):
    theirs = api_token_create(tenant=other_tenant, actor=None, name="Theirs", scope="owner")
    url = reverse("tenancy:api_token_revoke", kwargs={"pk": theirs.token.pk})
    assert client.post(url).status_code == 404
    assert api_token_authenticate(theirs.secret) is not None
    assert "Theirs" not in client.get(reverse("tenancy:api_token_list")).content.decode()


@pytest.mark.parametrize("role", ["manager", "accountant", "viewer"])
def test_only_owners_manage_tokens(client, tenant, login_as, role):
    login_as(tenant, role)
    assert client.get(reverse("tenancy:api_token_list")).status_code == 403
    assert client.post(reverse("tenancy:api_token_create"), VALID).status_code == 403
    assert tokens_of(tenant) == []


@pytest.mark.parametrize("rows", [1, 30])
def test_token_list_query_count_does_not_grow(client, owner, rows, django_assert_max_num_queries):
    for n in range(rows):
        api_token_create(tenant=owner.tenant, actor=None, name=f"T{n}", scope="ingest")
    with django_assert_max_num_queries(8):
        response = client.get(reverse("tenancy:api_token_list"), {"per_page": 50})
    assert response.status_code == 200

"""What an owner may change is what belongs to their tenant. From tenant B: editing an operator
who also works in tenant A changes their role and access in B, never their name or e-mail (the
person does that, in My account); adding an operator never tells whether a login exists in
another tenant. Tenant A is unchanged by all of it."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scopes_disabled

from tenancy.models import Membership
from tenancy.services import operator_update
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import field_errors

pytestmark = pytest.mark.django_db

IDENTITY = {"first_name": "Renamed", "last_name": "By B", "email": "b-owner-chose@example.com"}
NEW_OPERATOR = {
    "first_name": "Ivan",
    "last_name": "Petrov",
    "email": "ivan@example.com",
    "role": "viewer",
    "password1": "Tr1cky-Passw0rd!",
    "password2": "Tr1cky-Passw0rd!",
}


def snapshot(tenant) -> list[tuple]:
    """Every membership of the tenant with its person's login and identity."""
    with scopes_disabled():
        return [
            (m.pk, m.role, m.is_active, m.user.username, m.user.first_name, m.user.last_name)
            + (m.user.email,)
            for m in Membership.objects.filter(tenant=tenant).select_related("user").order_by("pk")
        ]


@pytest.fixture
def shared(tenant, other_tenant):
    """A person who is an operator in tenant A and in tenant B."""
    person = UserFactory(first_name="Anna", last_name="Shared", email="anna@example.com")
    MembershipFactory(tenant=tenant, user=person, role="manager")
    return MembershipFactory(tenant=other_tenant, user=person, role="viewer")


@pytest.fixture
def owner_b(other_tenant, login_as):
    return login_as(other_tenant, "owner")


def edit_url(membership):
    return reverse("tenancy:operator_edit", kwargs={"pk": membership.pk})


def test_owner_of_b_edits_the_role_but_not_the_identity_of_a_shared_operator(
    client, tenant, shared, owner_b
):
    before_a = snapshot(tenant)
    page = client.get(edit_url(shared)).content.decode()
    assert 'data-testid="shared-identity"' in page
    for name in ("first_name", "last_name", "email"):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*\bdisabled', page), name
    assert not re.search(r'<select[^>]*name="role"[^>]*\bdisabled', page)

    response = client.post(edit_url(shared), {**IDENTITY, "role": "accountant", "is_active": ""})
    assert response.status_code == 302
    shared.refresh_from_db()
    assert (shared.role, shared.is_active) == ("accountant", False)
    person = get_user_model().objects.get(pk=shared.user_id)
    assert (person.first_name, person.last_name, person.email) == (
        "Anna",
        "Shared",
        "anna@example.com",
    )
    assert snapshot(tenant) == before_a


def test_the_service_refuses_an_identity_change_of_a_shared_operator(tenant, shared, owner_b):
    before_a, before_b = snapshot(tenant), snapshot(shared.tenant)
    with pytest.raises(ValidationError) as refused:
        operator_update(
            membership=shared, actor=owner_b.user, role="owner", is_active=True, **IDENTITY
        )
    assert set(refused.value.error_dict) == {"first_name", "last_name", "email"}
    assert snapshot(tenant) == before_a and snapshot(shared.tenant) == before_b


def test_a_shared_operator_without_an_email_still_gets_a_new_role(
    client, other_tenant, shared, owner_b
):
    get_user_model().objects.filter(pk=shared.user_id).update(email="")
    response = client.post(edit_url(shared), {"role": "manager", "is_active": "on"})
    assert response.status_code == 302
    shared.refresh_from_db()
    assert shared.role == "manager"
    assert get_user_model().objects.get(pk=shared.user_id).email == ""


def test_a_staff_member_is_shared_too(client, other_tenant, owner_b):
    staff = MembershipFactory(tenant=other_tenant, user=UserFactory(is_staff=True, email="s@x.io"))
    client.post(edit_url(staff), {**IDENTITY, "role": "viewer", "is_active": "on"})
    staff.user.refresh_from_db()
    assert staff.user.email == "s@x.io"


def test_an_operator_of_b_only_is_edited_by_the_owner_of_b(client, tenant, other_tenant, owner_b):
    before_a = snapshot(tenant)
    own = MembershipFactory(tenant=other_tenant, role="viewer")
    assert 'data-testid="shared-identity"' not in client.get(edit_url(own)).content.decode()
    response = client.post(edit_url(own), {**IDENTITY, "role": "viewer", "is_active": "on"})
    assert response.status_code == 302
    own.user.refresh_from_db()
    assert own.user.email == IDENTITY["email"]
    assert snapshot(tenant) == before_a


def test_the_person_edits_their_own_name_and_email_in_my_account(client, tenant, shared):
    client.force_login(shared.user)
    page = client.get(reverse("account"))
    assert page.status_code == 200 and 'value="anna@example.com"' in page.content.decode()
    response = client.post(reverse("account"), IDENTITY)
    assert response.status_code == 302
    shared.user.refresh_from_db()
    assert shared.user.email == IDENTITY["email"] and shared.user.first_name == "Renamed"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": ""}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"last_name": "x" * 151}, "last_name"),
    ],
)
def test_bad_input_in_my_account_is_refused_next_to_the_field(client, shared, changes, field):
    client.force_login(shared.user)
    response = client.post(reverse("account"), {**IDENTITY, **changes})
    assert response.status_code == 400
    assert field_errors(response, field)
    assert f'data-field-error="{field}"' in response.content.decode()
    shared.user.refresh_from_db()
    assert shared.user.email == "anna@example.com"


# -- the username oracle -----------------------------------------------------------------------
def add_operator(client, name):
    return client.post(reverse("tenancy:operator_create"), {**NEW_OPERATOR, "username": name})


def test_a_login_that_exists_in_a_is_not_revealed_to_the_owner_of_b(
    client, tenant, other_tenant, owner_b
):
    UserFactory(username="ivan")  # a login made by a superuser
    MembershipFactory(tenant=tenant, user=UserFactory(username="ivan@tenant-a"))
    before_a = snapshot(tenant)
    page = client.get(reverse("tenancy:operator_create")).content.decode()
    assert 'data-testid="suffix-username">@tenant-b<' in page

    assert add_operator(client, "ivan").status_code == 302
    added = get_user_model().objects.get(username="ivan@tenant-b")
    with scopes_disabled():
        assert Membership.objects.get(user=added).tenant == other_tenant
    assert snapshot(tenant) == before_a


def test_a_name_with_at_is_refused_alike_whether_or_not_it_exists_elsewhere(
    client, tenant, owner_b
):
    MembershipFactory(tenant=tenant, user=UserFactory(username="ivan@tenant-a"))
    before_a, users = snapshot(tenant), get_user_model().objects.count()
    existing = field_errors(add_operator(client, "ivan@tenant-a"), "username")
    missing = field_errors(add_operator(client, "nobody@tenant-a"), "username")
    assert existing == missing and existing
    assert "taken" not in " ".join(existing)
    assert get_user_model().objects.count() == users and snapshot(tenant) == before_a


def test_a_conflict_is_only_within_the_tenant_namespace(client, tenant, other_tenant, owner_b):
    assert add_operator(client, "olga").status_code == 302
    again = add_operator(client, "Olga")
    assert field_errors(again, "username") == ["This tenant already has an operator Olga@tenant-b."]
    with scopes_disabled():
        assert Membership.objects.filter(tenant=other_tenant).count() == 2


def test_the_new_operator_logs_in_with_the_tenant_login(client, other_tenant, owner_b):
    add_operator(client, "ivan")
    client.logout()
    response = client.post(
        reverse("login"), {"username": "ivan@tenant-b", "password": NEW_OPERATOR["password1"]}
    )
    assert response.status_code == 302
    assert client.get(reverse("clients:client_list")).status_code == 200

"""Scoping: tenant-owned rows are reachable only through a tenant, and links never cross."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import ScopeError, scope

from clients.models import Client
from tenancy.middleware import SESSION_TENANT_KEY
from tenancy.services import membership_save_preference, tenant_next_number
from tests.factories import ClientGroupFactory, MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db


def test_unscoped_query_fails_loudly(make_client, tenant):
    make_client(tenant)
    with pytest.raises(ScopeError):
        list(Client.objects.all())


def test_for_tenant_returns_only_that_tenant(make_client, tenant, other_tenant):
    mine = make_client(tenant)
    make_client(other_tenant)
    assert list(Client.objects.for_tenant(tenant)) == [mine]
    with scope(tenant=other_tenant):  # explicit tenant wins over the active scope
        assert list(Client.objects.for_tenant(tenant)) == [mine]


def test_for_tenant_refuses_none():
    with pytest.raises(ValueError):
        Client.objects.for_tenant(None)


def test_clean_refuses_another_tenants_group(make_client, tenant, other_tenant):
    foreign_group = ClientGroupFactory(tenant=other_tenant)
    client = make_client(tenant)
    client.group = foreign_group
    with pytest.raises(ValidationError) as error:
        client.clean()
    assert "group" in error.value.message_dict


def test_numbers_are_per_tenant(tenant, other_tenant):
    assert tenant_next_number(tenant=tenant, name="client") == 1
    assert tenant_next_number(tenant=tenant, name="client", count=5) == 2
    assert tenant_next_number(tenant=tenant, name="client") == 7
    assert tenant_next_number(tenant=other_tenant, name="client") == 1


def test_switcher_changes_tenant_among_memberships(client, tenant, other_tenant, make_client):
    me = MembershipFactory(tenant=tenant, role="viewer")
    MembershipFactory(tenant=other_tenant, user=me.user, role="viewer")
    make_client(tenant, name="Alpha Client")
    make_client(other_tenant, name="Beta Client")
    client.force_login(me.user)
    first = client.get(reverse("clients:client_list")).content.decode()
    response = client.post(reverse("tenancy:tenant_switch"), {"tenant": other_tenant.pk})
    assert response.status_code == 302
    second = client.get(reverse("clients:client_list")).content.decode()
    assert "Alpha Client" in first and "Beta Client" not in first
    assert "Beta Client" in second and "Alpha Client" not in second


def test_switching_to_a_foreign_tenant_is_404(client, owner):
    stranger = TenantFactory()
    for value in (stranger.pk, "abc", ""):
        response = client.post(reverse("tenancy:tenant_switch"), {"tenant": value})
        assert response.status_code == 404
    assert client.session.get(SESSION_TENANT_KEY) is None


def test_inactive_tenant_is_not_offered(client, tenant, other_tenant):
    me = MembershipFactory(tenant=tenant)
    MembershipFactory(tenant=other_tenant, user=me.user)
    other_tenant.is_active = False
    other_tenant.save()
    client.force_login(me.user)
    response = client.post(reverse("tenancy:tenant_switch"), {"tenant": other_tenant.pk})
    assert response.status_code == 404


def test_preferences_keep_other_keys(owner):
    membership_save_preference(membership=owner, key="a.b", value=[1])
    membership_save_preference(membership=owner, key="c", value=2)
    owner.refresh_from_db()
    assert owner.preferences == {"a.b": [1], "c": 2}


def test_table_preferences_reject_unknown_table_and_bad_values(client, owner):
    url = reverse("tenancy:table_preferences", kwargs={"table_name": "NoSuchTable"})
    assert client.post(url, {"per_page": 20}).status_code == 404
    url = reverse("tenancy:table_preferences", kwargs={"table_name": "MembershipTable"})
    assert client.post(url, {"per_page": 100000}).status_code == 400
    assert client.post(url, {"columns": ["password"], "save_columns": "1"}).status_code == 400
    owner.refresh_from_db()
    assert owner.preferences == {}
    response = client.post(url, {"per_page": 20, "next": "https://evil.example.com/"})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    owner.refresh_from_db()
    assert owner.preferences == {"pagination.per_page": 20}


def test_pages_show_times_in_the_tenants_time_zone(client, owner, make_client):
    from datetime import UTC, datetime

    created = datetime(2026, 1, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 January in Berlin
    customer = make_client(owner.tenant, created_at=created)
    page = client.get(reverse("clients:client_detail", kwargs={"number": customer.number}))
    assert "2026-01-02 00:30" in page.content.decode()

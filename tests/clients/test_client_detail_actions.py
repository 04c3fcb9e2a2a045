"""Edit and delete from the client page: all fields with errors next to them, deletion rules
(refused with the reason and a link while a subscription is active or suspended), the Deleted
tombstone with its ledger and history kept, roles (403) and tenants (404)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from billing.models import LedgerEntry
from clients.models import Client, ClientStatus
from events.models import Event
from tests.factories import ClientFactory, ClientGroupFactory, SubscriptionFactory, make_account
from tests.helpers import assert_other_tenant_gives_404, assert_role_refused, field_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(tenant):
    return ClientFactory(tenant=tenant, name="Acme Customer", itn="")


def edit_url(c):
    return reverse("clients:client_edit", kwargs={"number": c.number})


def delete_url(c):
    return reverse("clients:client_delete", kwargs={"number": c.number})


def edit_data(customer, **overrides):
    data = {
        "name": customer.name,
        "company": "Acme Holding",
        "login": "",
        "email": "new@acme.example",
        "phone": "+49 30 1111111",
        "address": "2 Birch Street",
        "contact_name": "",
        "contact_email": "",
        "country": "",
        "itn": "",
        "property_type": "individual",
        "activity_type": "Retail",
        "region": "Bavaria",
        "site": "acme.example",
        "postal_address": "",
        "accounting_email": "",
        "external_tenant_name": "",
        "channel": "",
        "referer": "",
        "registered_on": "2026-01-15",
        "last_login_at": "",
        "failed_login_attempts": "2",
        "sms_price": "0.0400",
        "sms_subscription": "on",
        "last_purchase_at": "",
    }
    data.update(overrides)
    return data


def snapshot(c):
    with scopes_disabled():
        return Client.objects.filter(pk=c.pk).values().get()


# -- edit -----------------------------------------------------------------------------------------
def test_edit_form_prefilled_with_every_field(client, owner, customer):
    response = client.get(edit_url(customer))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["name"] == "Acme Customer"
    assert len(form.fields) == 28  # every field of the client form, its e-mail language too


def test_edit_saves_and_records_changed_fields(client, owner, customer, tenant):
    group = ClientGroupFactory(tenant=tenant, name="Business")
    response = client.post(edit_url(customer), edit_data(customer, group=group.pk))
    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    customer.refresh_from_db()
    assert customer.company == "Acme Holding" and customer.group == group
    assert customer.site == "https://acme.example" and customer.sms_price == Decimal("0.0400")
    with scopes_disabled():
        line = Event.objects.get(client_id=customer.pk, type="client.updated")
    assert line.actor == owner.user and "company" in line.payload["fields"]
    assert str(line.description).startswith("Edited ")


def test_edit_without_changes_records_nothing(client, owner, customer):
    client.post(edit_url(customer), edit_data(customer))
    client.post(edit_url(customer), edit_data(customer))
    with scopes_disabled():
        assert Event.objects.filter(client_id=customer.pk, type="client.updated").count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "   "),
        ("email", "not-an-email"),
        ("site", "http://"),
        ("country", "XX"),
        ("login", "12"),
        ("sms_price", "-1"),
        ("failed_login_attempts", "-3"),
        ("registered_on", "2026-13-45"),
        ("property_type", "alien"),
        ("group", "999999"),
        ("name", "x" * 201),
    ],
)
def test_edit_bad_input_next_to_field_changes_nothing(client, owner, customer, field, value):
    before = snapshot(customer)
    response = client.post(edit_url(customer), edit_data(customer, **{field: value}))
    assert response.status_code == 400
    assert field_errors(response, field), field
    assert f'data-field-error="{field}"' in response.content.decode()
    assert snapshot(customer) == before


def test_edit_refuses_other_tenants_group(client, owner, customer, other_tenant):
    foreign = ClientGroupFactory(tenant=other_tenant)
    before = snapshot(customer)
    response = client.post(edit_url(customer), edit_data(customer, group=foreign.pk))
    assert response.status_code == 400 and field_errors(response, "group")
    assert snapshot(customer) == before


# -- delete ---------------------------------------------------------------------------------------
def test_delete_without_subscriptions(client, owner, customer):
    make_account(customer, balance="15")
    page = client.get(delete_url(customer))
    assert page.status_code == 200 and 'data-testid="client-delete-form"' in page.content.decode()
    response = client.post(delete_url(customer), {"comment": "Closed the business"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.status == ClientStatus.DELETED
    with scopes_disabled():
        assert LedgerEntry.objects.filter(account__client=customer).count() == 1  # ledger kept
        line = Event.objects.get(client_id=customer.pk, type="client.deleted")
    assert "Closed the business" in str(line.description)
    # the tombstone still opens, read only
    html = client.get(customer.get_absolute_url()).content.decode()
    assert 'data-testid="tombstone"' in html and 'data-testid="client-edit"' not in html
    assert client.get(edit_url(customer)).status_code == 302


def test_delete_allowed_after_completed_subscriptions(client, owner, customer, tenant):
    SubscriptionFactory(tenant=tenant, client=customer, status="expired")
    SubscriptionFactory(tenant=tenant, client=customer, status="cancelled")
    assert client.post(delete_url(customer)).status_code == 302
    customer.refresh_from_db()
    assert customer.is_deleted
    with scopes_disabled():
        assert customer.subscriptions.count() == 2  # history kept


@pytest.mark.parametrize("status", ["active", "suspended"])
def test_delete_refused_with_live_subscription(client, owner, customer, tenant, status):
    sub = SubscriptionFactory(tenant=tenant, client=customer, status=status)
    page = client.get(delete_url(customer))
    html = page.content.decode()
    assert "Unable to delete client" in html
    assert reverse("subscriptions:subscription_detail", kwargs={"pk": sub.pk}) in html
    assert 'data-testid="client-delete-form"' not in html
    before = snapshot(customer)
    response = client.post(delete_url(customer))
    assert response.status_code == 409
    assert "Unable to delete client" in response.content.decode()
    assert snapshot(customer) == before
    sub.refresh_from_db()
    assert sub.status == status  # nothing cancelled silently


def test_delete_twice_is_refused(client, owner, customer):
    client.post(delete_url(customer))
    before = snapshot(customer)
    assert client.post(delete_url(customer)).status_code == 409
    assert snapshot(customer) == before


# -- roles and tenants ----------------------------------------------------------------------------
def client_write_requests(c):
    return [
        (edit_url(c), edit_data(c)),
        (delete_url(c), {}),
        (reverse("clients:client_sms_subscription", kwargs={"number": c.number}), {}),
    ]


@pytest.mark.parametrize("role", ["viewer", "accountant"])
def test_roles_without_manage_clients_get_403(client, tenant, login_as, customer, role):
    login_as(tenant, role)
    before = snapshot(customer)
    for url, data in client_write_requests(customer):
        assert_role_refused(client, url, "post", data)
    assert_role_refused(client, edit_url(customer))
    assert_role_refused(client, delete_url(customer))
    assert snapshot(customer) == before
    assert client.get(customer.get_absolute_url()).status_code == 200


def test_manager_may_edit_and_delete(client, tenant, login_as, customer):
    login_as(tenant, "manager")
    assert client.post(edit_url(customer), edit_data(customer)).status_code == 302
    assert client.post(delete_url(customer)).status_code == 302


def test_other_tenants_client_is_404_on_every_url(client, owner, other_tenant, tenant):
    mine = ClientFactory(tenant=tenant)
    foreign = ClientFactory(tenant=other_tenant)
    while foreign.number <= mine.number:  # a number that exists only in the other tenant
        foreign = ClientFactory(tenant=other_tenant)
    missing = foreign
    for url in (
        missing.get_absolute_url(),
        edit_url(missing),
        delete_url(missing),
        reverse("subscriptions:client_subscriptions", kwargs={"number": missing.number}),
    ):
        assert_other_tenant_gives_404(client, url)
    for url, data in client_write_requests(missing):
        assert_other_tenant_gives_404(client, url, "post", data)
    foreign.refresh_from_db()
    assert foreign.status == ClientStatus.ACTIVE

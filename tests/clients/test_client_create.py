"""Creating a client: the form, the service, roles and bad input."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from clients.models import Client, ClientStatus
from clients.services import client_create
from tests.factories import ClientGroupFactory
from tests.helpers import assert_role_refused, field_errors

pytestmark = pytest.mark.django_db

URL = "/clients/new/"


def client_count(tenant=None) -> int:
    with scopes_disabled():
        queryset = Client.objects.all()
        return (queryset.filter(tenant=tenant) if tenant else queryset).count()


@pytest.fixture
def create_url():
    return reverse("clients:client_create")


def valid_data(**overrides):
    data = {
        "name": "Nadia Novak",
        "company": "Novak Print LLC",
        "login": "+49 30 1234567",
        "email": "nadia@novak.example",
        "phone": "+49 30 7654321",
        "address": "1 Linden Street",
        "contact_name": "Petr Novak",
        "contact_email": "petr@novak.example",
        "country": "de",
        "itn": "123456789",
        "property_type": "legal_entity",
        "activity_type": "Printing",
        "region": "Berlin",
        "site": "novak.example",
        "postal_address": "PO Box 1",
        "accounting_email": "books@novak.example",
        "external_tenant_name": "novak.onmicrosoft.com",
        "channel": "web",
        "referer": "fair 2026",
        "registered_on": "2026-01-15",
        "last_login_at": "",
        "failed_login_attempts": "0",
        "sms_price": "0.0420",
        "sms_subscription": "on",
        "last_purchase_at": "",
    }
    data.update(overrides)
    return data


def test_create_lands_on_the_client_page(client, owner, create_url):
    group = ClientGroupFactory(tenant=owner.tenant, name="SMB")
    response = client.post(create_url, valid_data(group=group.pk))
    with scopes_disabled():
        created = Client.objects.get(tenant=owner.tenant)
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:client_detail", kwargs={"number": 1})
    assert created.number == 1
    assert created.status == ClientStatus.ACTIVE
    assert created.login == "+49301234567"  # E.164
    assert created.country == "DE"
    assert created.group == group
    assert created.sms_price == Decimal("0.0420")
    assert created.sms_subscription is True
    assert created.site == "https://novak.example"
    assert "nadia novak" in created.search_text and "123456789" in created.search_text
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Nadia Novak" in page.content.decode()


def test_numbers_follow_the_tenant_sequence(client, owner, other_tenant, make_client, create_url):
    make_client(other_tenant)
    make_client(owner.tenant)
    client.post(create_url, valid_data(name="Second"))
    with scopes_disabled():
        numbers = sorted(
            Client.objects.filter(tenant=owner.tenant).values_list("number", flat=True)
        )
    assert numbers == [1, 2]


def test_form_offers_every_field_and_only_own_groups(client, owner, other_tenant, create_url):
    ClientGroupFactory(tenant=owner.tenant, name="Own Group")
    ClientGroupFactory(tenant=other_tenant, name="Foreign Group")
    response = client.get(create_url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Own Group" in html and "Foreign Group" not in html
    for name in valid_data():
        assert f'name="{name}"' in html, name
    assert 'name="group"' in html


def test_viewer_and_accountant_are_refused(client, tenant, login_as, create_url):
    for role in ("viewer", "accountant"):
        login_as(tenant, role)
        assert_role_refused(client, create_url)
        assert_role_refused(client, create_url, "post", valid_data())
    assert client_count() == 0


def test_manager_may_create(client, tenant, login_as, create_url):
    login_as(tenant, "manager")
    assert client.post(create_url, valid_data()).status_code == 302
    assert client_count(tenant) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "required"),
        ({"name": "   "}, "name", "required"),
        ({"name": "x" * 201}, "name", "at most 200"),
        ({"company": "x" * 201}, "company", "at most 200"),
        ({"sms_price": "-0.01"}, "sms_price", "greater than or equal to 0"),
        ({"sms_price": "abc"}, "sms_price", "number"),
        ({"sms_price": "0.00001"}, "sms_price", "decimal places"),
        ({"itn": "12ab"}, "itn", "5 to 20 digits"),
        ({"country": "RU", "itn": "7707083894"}, "itn", "valid INN"),
        ({"country": "RU", "itn": "123"}, "itn", "valid INN"),
        ({"country": "XX"}, "country", "ISO country code"),
        ({"login": "not a phone"}, "login", "phone number"),
        ({"login": "+7 000 0000000"}, "login", "not valid"),
        ({"email": "nope"}, "email", "valid email"),
        ({"contact_email": "nope@"}, "contact_email", "valid email"),
        ({"site": "http://"}, "site", "valid URL"),
        ({"registered_on": "2026-02-31"}, "registered_on", "Enter a date as YYYY-MM-DD"),
        ({"failed_login_attempts": "-1"}, "failed_login_attempts", "greater than or equal to 0"),
        ({"channel": "pigeon"}, "channel", "valid choice"),
        ({"property_type": "castle"}, "property_type", "valid choice"),
    ],
)
def test_bad_input_shows_a_message_next_to_the_field_and_creates_nothing(
    client, owner, create_url, overrides, field, message
):
    response = client.post(create_url, valid_data(**overrides))
    assert response.status_code == 400
    errors = " ".join(field_errors(response, field))
    assert message.lower() in errors.lower(), errors
    assert f'data-field-error="{field}"' in response.content.decode()
    assert client_count() == 0


def test_empty_form_creates_nothing(client, owner, create_url):
    response = client.post(create_url, {})
    assert response.status_code == 400
    assert field_errors(response, "name")
    assert client_count() == 0


def test_another_tenants_group_is_refused(client, owner, other_tenant, create_url):
    foreign = ClientGroupFactory(tenant=other_tenant)
    response = client.post(create_url, valid_data(group=foreign.pk))
    assert response.status_code == 400
    assert "valid choice" in " ".join(field_errors(response, "group"))
    assert client_count() == 0


def test_valid_russian_inn_is_accepted(client, owner, create_url):
    response = client.post(
        create_url, valid_data(country="RU", itn="7707083893", login="+7 916 123-45-67")
    )
    assert response.status_code == 302
    with scopes_disabled():
        created = Client.objects.get(tenant=owner.tenant)
    assert created.login == "+79161234567"


def test_service_refuses_protected_fields_and_other_tenants_group(tenant, other_tenant):
    foreign = ClientGroupFactory(tenant=other_tenant)
    with pytest.raises(TypeError):
        client_create(tenant=tenant, actor=None, name="X", number=5)
    with pytest.raises(TypeError):
        client_create(tenant=tenant, actor=None, name="X", status="deleted")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error, scopes_disabled():
        client_create(tenant=tenant, actor=None, name="X", group=foreign)
    assert "group" in error.value.message_dict
    assert client_count() == 0

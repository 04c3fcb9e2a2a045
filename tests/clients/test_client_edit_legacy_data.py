"""Edit on a provider's own data: values imported before today's rules (a login that is no
E.164 number, an e-mail of another era, a time with seconds the form does not show) are never
refused when the operator did not touch them; what the operator changes is validated; the
activity line names exactly the fields that changed."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from clients.models import Client
from events.models import Event
from tests.factories import ClientFactory
from tests.helpers import field_errors
from tests.html_forms import page_forms

pytestmark = pytest.mark.django_db

LEGACY = {
    "login": "8 029 123-45-67",  # typed by hand in the old system
    "email": "accounts at old-domain",  # not an address at all
    "accounting_email": "buh@@kontora.ru",
    "itn": "1234567890",  # fails the INN check digits
    "country": "RU",
    "last_purchase_at": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),  # with seconds
}


@pytest.fixture
def legacy_client(tenant):
    return ClientFactory(tenant=tenant, name="Imported Long Ago", **LEGACY)


def edit_url(client_obj) -> str:
    return reverse("clients:client_edit", kwargs={"number": client_obj.number})


def as_rendered(http, client_obj) -> dict:
    """The edit form's fields as the page rendered them, as a browser would send them."""
    url = edit_url(client_obj)
    html = http.get(url).content.decode()
    form = next(f for f in page_forms(html, url) if f.method == "post" and "name" in f.data())
    return form.data()


def stored(client_obj) -> dict:
    with scopes_disabled():
        return Client.objects.filter(pk=client_obj.pk).values().get()


def edits(client_obj) -> list[str]:
    with scopes_disabled():
        return [
            str(description)
            for description in Event.objects.filter(
                client_id=client_obj.pk, type="client.updated"
            ).values_list("description", flat=True)
        ]


def test_saving_unchanged_legacy_values_succeeds_and_changes_nothing(client, owner, legacy_client):
    before = stored(legacy_client)
    response = client.post(edit_url(legacy_client), as_rendered(client, legacy_client))
    assert response.status_code == 302
    after = stored(legacy_client)
    assert after == {**before, "updated_at": after["updated_at"]}
    assert edits(legacy_client) == []


def test_a_changed_field_is_saved_and_only_it_is_named(client, owner, legacy_client):
    data = as_rendered(client, legacy_client)
    data["name"] = ["Imported, Renamed"]
    response = client.post(edit_url(legacy_client), data)
    assert response.status_code == 302
    after = stored(legacy_client)
    assert after["name"] == "Imported, Renamed"
    assert after["login"] == LEGACY["login"] and after["email"] == LEGACY["email"]
    assert edits(legacy_client) == ["Name: Imported Long Ago → Imported, Renamed"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("login", "12"), ("email", "still not an address"), ("itn", "1234567891")],
)
def test_a_changed_value_is_validated(client, owner, legacy_client, field, value):
    before = stored(legacy_client)
    data = as_rendered(client, legacy_client)
    data[field] = [value]
    response = client.post(edit_url(legacy_client), data)
    assert response.status_code == 400
    assert field_errors(response, field)
    assert stored(legacy_client) == before and edits(legacy_client) == []


def test_a_changed_country_validates_the_login_and_itn_it_reads(client, owner, legacy_client):
    data = as_rendered(client, legacy_client)
    data["country"] = ["LV"]
    response = client.post(edit_url(legacy_client), data)
    assert response.status_code == 400
    assert field_errors(response, "login")  # the legacy login is no Latvian number either
    assert stored(legacy_client)["country"] == "RU"


@pytest.mark.parametrize("address", ["müller@beispiel.de", "иван@почта.рф", "josé@correo.es"])
def test_internationalised_email_addresses_are_accepted(client, owner, legacy_client, address):
    data = as_rendered(client, legacy_client)
    data["email"] = [address]
    response = client.post(edit_url(legacy_client), data)
    assert response.status_code == 302
    assert stored(legacy_client)["email"] == address
    assert edits(legacy_client) == [f"E-mail: {LEGACY['email']} → {address}"]


@pytest.mark.parametrize("address", ["pay\u200bpal@example.com", "\u202egro.elpmaxe@ab"])
def test_invisible_characters_in_an_address_are_refused(client, owner, legacy_client, address):
    data = as_rendered(client, legacy_client)
    data["email"] = [address]
    response = client.post(edit_url(legacy_client), data)
    assert response.status_code == 400 and field_errors(response, "email")

"""The API's client list takes every filter of the portal's client list, the client's own and
those other apps contribute through clients.extensions: each is a query parameter of the
schema (with the modules it belongs to) and selects the same clients as the page."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django_filters import ChoiceFilter
from django_scopes import scope, scopes_disabled

from clients.extensions import LIST_FILTERS, ListFilter, register_list_filter
from clients.filters import ClientFilterSet
from clients.models import Client
from config.api import api
from subscriptions.models import tenant_today
from tenancy.services import api_token_create
from tests.clients.helpers import listed_numbers
from tests.factories import (
    ClientFactory,
    PackageFactory,
    PppoeAccountFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(tenant):
    with scopes_disabled():
        secret = api_token_create(tenant=tenant, actor=None, name="f", scope="owner").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def client_list_parameters() -> dict[str, dict]:
    operation = api.get_openapi_schema()["paths"]["/api/v1/clients/"]["get"]
    return {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}


def portal_parameters(tenant) -> set[str]:
    """The query parameters the portal's client list reads for `tenant`: one per form field of
    its FilterSet, a range field's per suffix."""
    with scope(tenant=tenant.pk):
        filterset = ClientFilterSet(
            None,
            queryset=Client.objects.for_tenant(tenant),
            request=SimpleNamespace(tenant=tenant),
        )
        names = set()
        for name, field in filterset.form.fields.items():
            suffixes = getattr(field.widget, "suffixes", None)
            names.update(f"{name}_{suffix}" for suffix in suffixes) if suffixes else names.add(name)
    return names


def test_every_filter_of_the_portal_list_is_a_parameter_of_the_schema(tenant):
    parameters = client_list_parameters()
    missing = portal_parameters(tenant) - set(parameters)
    assert not missing
    assert LIST_FILTERS.names(), "the apps register their filters in ready()"
    for entry in LIST_FILTERS.all():
        assert parameters[entry.name]["x-modules"] == sorted(entry.modules)
        assert parameters[entry.name]["description"]


def test_a_filter_registered_later_is_in_the_next_schema():
    register_list_filter(
        ListFilter(
            name="by_company",
            filter=ChoiceFilter(field_name="company", choices=[("Acme", "Acme")]),
            modules={"reseller"},
        )
    )
    try:
        parameter = client_list_parameters()["by_company"]
    finally:
        LIST_FILTERS.unregister("by_company")
    assert (parameter["schema"]["enum"], parameter["x-modules"]) == (["Acme"], ["reseller"])
    assert "by_company" not in client_list_parameters()


def test_contributed_filters_are_documented_with_the_values_their_forms_accept():
    parameters = client_list_parameters()
    assert parameters["connection"]["schema"]["enum"] == ["online", "offline", "unknown", "none"]
    expiring = parameters["expiring"]["schema"]
    assert (expiring["type"], expiring["minimum"]) == ("integer", 1)
    assert expiring["maximum"] >= 30


@pytest.fixture
def listed_clients(tenant):
    """Clients that the contributed filters tell apart: a subscription ending in 5 days, one
    ending in 40, PPPoE accounts online and offline, and a client with neither."""
    today = tenant_today(tenant)
    with scopes_disabled():
        package = PackageFactory(tenant=tenant)
        soon, later, online, offline, bare = ClientFactory.create_batch(5, tenant=tenant)
        for customer, days in ((soon, 5), (later, 40)):
            SubscriptionFactory(
                tenant=tenant,
                client=customer,
                package=package,
                start_date=today - timedelta(days=3),
                end_date=today + timedelta(days=days),
            )
        PppoeAccountFactory(tenant=tenant, client=online, status="online")
        PppoeAccountFactory(tenant=tenant, client=offline, status="offline")
    return {"soon": soon, "later": later, "online": online, "offline": offline, "bare": bare}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"expiring": "10"}, {"soon"}),
        ({"expiring": "60"}, {"soon", "later"}),
        ({"connection": "online"}, {"online"}),
        ({"connection": "offline"}, {"offline"}),
        ({"connection": "none"}, {"soon", "later", "bare"}),
        ({"connection": "none", "expiring": "10"}, {"soon"}),
    ],
)
def test_contributed_filters_select_the_same_clients_as_the_page(
    client, tenant, owner, bearer, listed_clients, query, expected
):
    numbers = {name: customer.number for name, customer in listed_clients.items()}
    answer = client.get("/api/v1/clients/", {**query, "limit": 100}, **bearer)
    assert answer.status_code == 200, answer.content
    from_api = {item["number"] for item in answer.json()["items"]}
    page = client.get("/clients/", {**query, "per_page": 100})
    assert page.status_code == 200
    assert from_api == set(listed_numbers(page))
    assert from_api == {numbers[name] for name in expected}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"expiring": "0"}, "expiring"),
        ({"expiring": "x"}, "expiring"),
        ({"connection": "up"}, "connection"),
    ],
)
def test_a_bad_contributed_filter_is_a_422_naming_it(client, bearer, query, field):
    answer = client.get("/api/v1/clients/", query, **bearer)
    assert answer.status_code == 422
    assert answer["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in answer.json()["errors"]] == [field]


def test_a_filter_of_a_module_the_tenant_does_not_use_is_ignored(client, tenant, bearer):
    tenant.uses_routers = False
    tenant.uses_reseller = False
    tenant.save()
    with scopes_disabled():
        ClientFactory(tenant=tenant)
    answer = client.get("/api/v1/clients/", {"connection": "up", "expiring": "x"}, **bearer)
    assert answer.status_code == 200 and len(answer.json()["items"]) == 1

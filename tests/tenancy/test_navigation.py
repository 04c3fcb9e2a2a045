"""The navigation lights the section of the page shown: every page of a client (its tabs,
whichever app serves them, its subscriptions) and Order subscription belong to Clients."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import (
    ClientFactory,
    MembershipFactory,
    PackageFactory,
    PppoeAccountFactory,
    RouterFactory,
    SubscriptionFactory,
    TenantFactory,
    make_account,
)

pytestmark = pytest.mark.django_db

ACTIVE = re.compile(r'<a class="nav-link active" href="[^"]*" aria-current="page">([^<]+)</a>')


def client_page_names(patterns=None, namespace=""):
    """Every named URL that takes just a client's number: the client's pages and tabs."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from client_page_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name and takes_only_a_number(entry):
            yield f"{namespace}{entry.name}"


def takes_only_a_number(entry: URLPattern) -> bool:
    return set(getattr(entry.pattern, "converters", {})) == {"number"}


@pytest.fixture
def world(client):
    tenant = TenantFactory(uses_routers=True, uses_messaging=True)
    owner = MembershipFactory(tenant=tenant, role="owner")
    customer = ClientFactory(tenant=tenant)
    make_account(customer, balance="10")
    PppoeAccountFactory(tenant=tenant, client=customer, router=RouterFactory(tenant=tenant))
    subscription = SubscriptionFactory(
        tenant=tenant, client=customer, package=PackageFactory(tenant=tenant)
    )
    client.force_login(owner.user)
    return customer, subscription


def active_section(response) -> list[str]:
    return ACTIVE.findall(response.content.decode())


def test_every_page_of_a_client_lights_clients(client, world):
    customer, subscription = world
    shown = 0
    for name in sorted(set(client_page_names())):
        response = client.get(reverse(name, kwargs={"number": customer.number}))
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue  # a POST-only action or a redirect
        if b'class="navbar' not in response.content:
            continue  # a fragment (suggestions, a table region)
        assert active_section(response) == ["Clients"], name
        shown += 1
    assert shown >= 5  # the page and its tabs were really walked
    subscription_page = reverse("subscriptions:subscription_detail", kwargs={"pk": subscription.pk})
    assert active_section(client.get(subscription_page)) == ["Clients"]
    assert active_section(client.get(reverse("subscriptions:order"))) == ["Clients"]


def test_other_sections_light_themselves(client, world):
    assert active_section(client.get(reverse("routers:router_list"))) == ["Routers"]
    assert active_section(client.get(reverse("subscriptions:package_list"))) == ["Packages"]

"""The navigation lights the section of the page shown: every page of a client (its tabs,
whichever app serves them, its subscriptions) and Order subscription belong to Clients."""

import re

import pytest
from django.urls import reverse

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
from tests.helpers import client_pages

pytestmark = pytest.mark.django_db

ACTIVE = re.compile(r'<a class="nav-link active" href="[^"]*" aria-current="page">([^<]+)</a>')


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
    pages = client_pages(client, customer)
    assert len(pages) >= 5  # the page and its tabs were really walked
    for name, response in pages.items():
        assert active_section(response) == ["Clients"], name
    subscription_page = reverse("subscriptions:subscription_detail", kwargs={"pk": subscription.pk})
    assert active_section(client.get(subscription_page)) == ["Clients"]
    assert active_section(client.get(reverse("subscriptions:order"))) == ["Clients"]


def test_other_sections_light_themselves(client, world):
    assert active_section(client.get(reverse("routers:router_list"))) == ["Routers"]
    assert active_section(client.get(reverse("subscriptions:package_list"))) == ["Packages"]


def test_edit_and_delete_stay_on_every_tab_of_a_client(client, world):
    customer, _ = world
    for name, response in client_pages(client, customer).items():
        body = response.content.decode()
        if 'data-testid="client-tabs"' not in body:
            continue  # a page of its own (the activity, the edit form)
        assert 'data-testid="client-edit"' in body, name
        assert 'data-testid="client-delete"' in body, name

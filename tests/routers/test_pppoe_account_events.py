"""Saving a client's PPPoE account records pppoe_account.created / pppoe_account.updated in
the change's transaction: the old and new value of each changed field, a new password only
named, never its value; the client's timeline shows them."""

import pytest
from django.db import transaction
from django_scopes import scopes_disabled

from events.models import Event
from events.selectors import client_events
from events.webhook_forms import WebhookEndpointForm
from routers.models import PppoeAccount
from routers.services import pppoe_account_save
from tests.factories import ClientFactory, RouterFactory

pytestmark = pytest.mark.django_db
PASSWORD, NEW_PASSWORD = "First-pass-91", "Second-pass-42"


class Rollback(Exception):
    pass


def account_events(tenant):
    with scopes_disabled():
        return list(
            Event.objects.filter(tenant=tenant, type__startswith="pppoe_account.").order_by("pk")
        )


def save(tenant, client, router, actor, **fields):
    fields.setdefault("username", "ada")
    with scopes_disabled():
        return pppoe_account_save(
            tenant=tenant, client=client, router=router, actor=actor, **fields
        )


def assert_no_password(event, account):
    text = f"{event.payload} {event.description}"
    assert PASSWORD not in text and NEW_PASSWORD not in text
    assert account.password_encrypted not in text


def test_a_new_account_records_its_creation_without_the_password(tenant, owner):
    customer, router = ClientFactory(tenant=tenant), RouterFactory(tenant=tenant, name="Core")
    account = save(tenant, customer, router, owner.user, password=PASSWORD, profile="10M")
    (event,) = account_events(tenant)
    assert event.type == "pppoe_account.created"
    assert (event.object_type, event.object_id, event.client_id) == (
        "pppoe_account",
        account.pk,
        customer.pk,
    )
    assert event.payload == {
        "account": account.pk,
        "router": router.pk,
        "username": "ada",
        "profile": "10M",
    }
    assert event.actor_id == owner.user.pk and "Core" in str(event.description)
    assert_no_password(event, account)
    with scopes_disabled():
        assert event in client_events(tenant=tenant, client_id=customer.pk)


def test_a_change_records_old_and_new_and_only_that_the_password_changed(tenant, owner):
    customer = ClientFactory(tenant=tenant)
    first, second = RouterFactory(tenant=tenant), RouterFactory(tenant=tenant)
    save(tenant, customer, first, owner.user, password=PASSWORD)
    account = save(tenant, customer, second, owner.user, username="ada2", password=NEW_PASSWORD)
    created, updated = account_events(tenant)
    assert updated.type == "pppoe_account.updated"
    assert updated.payload == {
        "account": account.pk,
        "fields": ["password", "router", "username"],
        "changes": {
            "router": {"old": first.pk, "new": second.pk},
            "username": {"old": "ada", "new": "ada2"},
        },
        "password_changed": True,
    }
    assert_no_password(updated, account)


def test_a_change_without_a_new_password_says_it_is_unchanged(tenant, owner):
    customer, router = ClientFactory(tenant=tenant), RouterFactory(tenant=tenant)
    save(tenant, customer, router, owner.user, password=PASSWORD)
    save(tenant, customer, router, owner.user, password="", profile="20M")
    updated = account_events(tenant)[-1]
    assert updated.payload["fields"] == ["profile"]
    assert updated.payload["changes"] == {"profile": {"old": "default", "new": "20M"}}
    assert updated.payload["password_changed"] is False


def test_a_save_that_changes_nothing_records_nothing(tenant, owner):
    customer, router = ClientFactory(tenant=tenant), RouterFactory(tenant=tenant)
    save(tenant, customer, router, owner.user, password=PASSWORD)
    save(tenant, customer, router, owner.user, password=None)
    assert [e.type for e in account_events(tenant)] == ["pppoe_account.created"]


def test_a_rolled_back_save_leaves_no_event(tenant, owner):
    customer, router = ClientFactory(tenant=tenant), RouterFactory(tenant=tenant)
    with pytest.raises(Rollback), transaction.atomic():
        save(tenant, customer, router, owner.user, password=PASSWORD)
        assert len(account_events(tenant)) == 1
        raise Rollback
    assert account_events(tenant) == []
    with scopes_disabled():
        assert not PppoeAccount.objects.filter(client=customer).exists()


def test_webhook_endpoints_can_subscribe_to_pppoe_account_events():
    offered = dict(WebhookEndpointForm.base_fields["event_types"].choices)
    assert {"pppoe_account.created", "pppoe_account.updated"} <= set(offered)

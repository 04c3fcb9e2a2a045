"""Adding and editing a sender ID records sender_id.created / sender_id.updated in the
change's transaction, with the old and new value of each changed field; the client's
timeline shows them and webhook endpoints can subscribe to them."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django_scopes import scopes_disabled

from events.models import Event
from events.selectors import client_events
from events.webhook_forms import WebhookEndpointForm
from messaging.models import SenderId
from messaging.services import sender_id_create, sender_id_update
from tests.factories import ClientFactory, SenderIdFactory

pytestmark = pytest.mark.django_db

QUESTIONNAIRE = {
    "purpose": "Order notifications",
    "sample_text": "Your order has shipped.",
    "documents_note": "Registration extract",
}


class Rollback(Exception):
    pass


def sender_events(tenant, type_):
    with scopes_disabled():
        return list(Event.objects.filter(tenant=tenant, type=type_).order_by("pk"))


def test_a_new_sender_id_records_its_creation(tenant, owner):
    customer = ClientFactory(tenant=tenant)
    with scopes_disabled():
        sender = sender_id_create(
            client=customer, actor=owner.user, name="ACME", channel="sms", **QUESTIONNAIRE
        )
    (event,) = sender_events(tenant, "sender_id.created")
    assert (event.object_type, event.object_id, event.client_id) == (
        "sender_id",
        sender.pk,
        customer.pk,
    )
    assert event.actor_id == owner.user.pk
    assert event.payload == {
        "sender_id": sender.pk,
        "name": "ACME",
        "channel": "sms",
        "status": "pending",
    }
    assert "ACME" in str(event.description)
    with scopes_disabled():
        assert event in client_events(tenant=tenant, client_id=customer.pk)


def test_an_edit_records_old_and_new_of_each_changed_field(tenant, owner):
    sender = SenderIdFactory(client=ClientFactory(tenant=tenant), name="ACME", status="approved")
    with scopes_disabled():
        sender_id_update(
            sender=sender,
            actor=owner.user,
            name="ACMEINFO",
            channel=sender.channel,
            purpose="Delivery notices",
            sample_text=sender.sample_text,
            documents_note=sender.documents_note,
        )
    (event,) = sender_events(tenant, "sender_id.updated")
    assert event.payload["fields"] == ["name", "purpose", "status"]
    assert event.payload["changes"] == {
        "name": {"old": "ACME", "new": "ACMEINFO"},
        "purpose": {"old": "Order notifications", "new": "Delivery notices"},
        "status": {"old": "approved", "new": "pending"},
    }
    assert (event.client_id, event.object_id) == (sender.client_id, sender.pk)


def test_an_edit_that_changes_nothing_records_nothing(tenant, owner):
    sender = SenderIdFactory(client=ClientFactory(tenant=tenant))
    unchanged = {"name": sender.name, "channel": sender.channel, **QUESTIONNAIRE}
    unchanged.update(purpose=sender.purpose, sample_text=sender.sample_text)
    unchanged.update(documents_note=sender.documents_note)
    with scopes_disabled():
        sender_id_update(sender=sender, actor=owner.user, **unchanged)
    assert sender_events(tenant, "sender_id.updated") == []


def test_a_rolled_back_creation_and_edit_leave_no_event(tenant, owner):
    customer = ClientFactory(tenant=tenant)
    sender = SenderIdFactory(client=customer, name="KEEP")
    with scopes_disabled(), pytest.raises(Rollback), transaction.atomic():
        sender_id_create(client=customer, actor=owner.user, name="GONE", **QUESTIONNAIRE)
        sender_id_update(sender=sender, actor=owner.user, name="KEPTNOT")
        assert len(sender_events(tenant, "sender_id.created")) == 1
        assert len(sender_events(tenant, "sender_id.updated")) == 1
        raise Rollback
    assert sender_events(tenant, "sender_id.created") == []
    assert sender_events(tenant, "sender_id.updated") == []
    with scopes_disabled():
        assert not SenderId.objects.filter(name="GONE").exists()


def test_a_refused_edit_records_nothing(tenant, owner):
    sender = SenderIdFactory(client=ClientFactory(tenant=tenant))
    with scopes_disabled(), pytest.raises(ValidationError, match="name"):
        sender_id_update(sender=sender, actor=owner.user, name="not a valid name!")
    assert sender_events(tenant, "sender_id.updated") == []


def test_webhook_endpoints_can_subscribe_to_sender_id_events():
    offered = dict(WebhookEndpointForm.base_fields["event_types"].choices)
    assert {"sender_id.created", "sender_id.updated"} <= set(offered)

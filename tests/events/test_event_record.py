"""Events are written in the transaction of their change, through one call."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from billing.services import account_top_up
from clients.services import client_update
from core.stored_text import literal_text
from events import services
from events.models import ActorKind, Event
from events.services import EventLine, event_record, events_record_bulk
from tests.factories import ClientFactory, make_account


class Rollback(Exception):
    pass


def events_of(client_obj) -> list[Event]:
    with scopes_disabled():
        return list(Event.objects.filter(client_id=client_obj.pk).order_by("id"))


def test_a_rolled_back_change_leaves_no_event(tenant, owner):
    customer = ClientFactory(tenant=tenant, company="Old")
    before = len(events_of(customer))
    with pytest.raises(Rollback), transaction.atomic():
        client_update(client=customer, actor=owner.user, company="New")
        assert len(events_of(customer)) == before + 1  # written with the change...
        raise Rollback
    assert len(events_of(customer)) == before  # ...and gone with it


def test_an_event_outside_a_transaction_is_refused(tenant, monkeypatch):
    autocommit = SimpleNamespace(get_connection=lambda: SimpleNamespace(in_atomic_block=False))
    with monkeypatch.context() as patch:
        patch.setattr(services, "transaction", autocommit)
        with pytest.raises(RuntimeError, match="transaction"):
            event_record(
                tenant=tenant, type="client.created", description=literal_text("x"), client_id=1
            )
        with pytest.raises(RuntimeError, match="transaction"):
            events_record_bulk(tenant=tenant, lines=[])


def test_client_updated_keeps_old_and_new_values(tenant, owner):
    customer = ClientFactory(tenant=tenant, company="Old Ltd")
    client_update(client=customer, actor=owner.user, company="New Ltd")
    event = events_of(customer)[-1]
    assert event.type == "client.updated"
    assert event.payload["changes"]["company"] == {"old": "Old Ltd", "new": "New Ltd"}
    assert event.actor_kind == ActorKind.OPERATOR and event.actor == owner.user
    assert (event.object_type, event.object_id) == ("client", customer.pk)


def test_a_job_names_itself_and_an_operator_is_an_operator(tenant, owner):
    customer = ClientFactory(tenant=tenant)
    with transaction.atomic():
        events_record_bulk(
            tenant=tenant,
            actor_label="financial holds",
            lines=[
                EventLine(
                    type="hold.placed",
                    client_id=customer.pk,
                    description=literal_text("by the job"),
                ),
                EventLine(
                    type="hold.released",
                    client_id=customer.pk,
                    description=literal_text("by hand"),
                    actor=owner.user,
                ),
            ],
        )
    job, person = events_of(customer)[-2:]
    assert (job.actor_kind, job.who) == (ActorKind.JOB, "financial holds")
    assert (person.actor_kind, person.actor_id) == (ActorKind.OPERATOR, owner.user.pk)


def test_a_chunk_is_one_insert(tenant):
    customers = [ClientFactory(tenant=tenant) for _ in range(3)]
    lines = [
        EventLine(type="hold.placed", client_id=c.pk, description=literal_text("x"))
        for c in customers
    ]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        events_record_bulk(tenant=tenant, lines=lines)
    inserts = [q for q in queries if q["sql"].startswith("INSERT INTO")]
    assert len(inserts) == 1 and "events_event" in inserts[0]["sql"]


def test_a_top_up_is_a_ledger_event_on_the_timeline(tenant, owner):
    customer = ClientFactory(tenant=tenant)
    account = make_account(customer)
    entry = account_top_up(account=account, amount=Decimal("12.50"), actor=owner.user)
    event = events_of(customer)[-1]
    assert event.type == "ledger.entry_posted"
    assert (event.object_type, event.object_id) == ("ledger_entry", entry.pk)
    assert event.payload["kind"] == "top_up" and event.payload["amount"] == "12.50"

"""The client timeline's rows move into events with their ids, order, times, actors, wording
and details, and the next event follows them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("clients", "0007_client_import"),
    ("events", "0001_initial"),
    ("tenancy", "0007_tenant_event_retention_days"),
]
AFTER = [("clients", "0008_activity_into_events")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_activity_lines_become_events(back_to_latest):
    old = migrate(BEFORE)
    tenant = old.get_model("tenancy", "Tenant").objects.create(name="M", slug="migrated")
    client = old.get_model("clients", "Client").objects.create(
        tenant=tenant, number=1, name="Old Client"
    )
    activity = old.get_model("clients", "ClientActivity")
    earlier = timezone.now() - timedelta(days=3)
    lines = [
        activity.objects.create(
            tenant=tenant,
            client=client,
            verb="created",
            description="Client created",
            created_at=earlier,
        ),
        activity.objects.create(
            tenant=tenant,
            client=client,
            verb="top_up",
            actor_label="system",
            description="Top-up 5.00 EUR",
            data={"entry": 77, "amount": "5.00"},
        ),
        activity.objects.create(
            tenant=tenant,
            client=client,
            verb="hold_set",
            actor_label="financial holds",
            description="Financial hold set: debt",
            data={"hold": 3},
        ),
    ]
    new = migrate(AFTER)
    event = new.get_model("events", "Event")
    moved = list(event.objects.order_by("id"))
    assert [e.pk for e in moved] == [line.pk for line in lines]
    assert [e.type for e in moved] == ["client.created", "ledger.entry_posted", "hold.placed"]
    assert moved[0].created_at == earlier and moved[0].description == "Client created"
    assert (moved[1].object_type, moved[1].object_id) == ("ledger_entry", 77)
    assert moved[1].payload == {"entry": 77, "amount": "5.00", "kind": "top_up"}
    assert (moved[2].actor_kind, moved[2].actor_label) == ("job", "financial holds")
    assert all(e.client_id == client.pk for e in moved)
    following = event.objects.create(tenant_id=tenant.pk, type="client.updated", description="x")
    assert following.pk > lines[-1].pk

"""The notices sent before the e-mail outbox keep their keys in it, as sent: none goes to a
client a second time; a notice still unsent is left for the job to owe again."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("holds", "0005_tenant_keyed_links"), ("events", "0004_email_outbox")]
AFTER = [("holds", "0006_notifications_moved_to_outbox")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_sent_notices_become_sent_outbox_rows(back_to_latest):
    old = migrate(BEFORE)
    tenant = old.get_model("tenancy", "Tenant").objects.create(name="M", slug="migrated")
    client = old.get_model("clients", "Client").objects.create(
        tenant=tenant, number=1, name="Old Client"
    )
    notification = old.get_model("holds", "Notification")
    notification.objects.create(
        tenant=tenant, client=client, kind="expiring", key="expiring:7", sent_at=timezone.now()
    )
    notification.objects.create(tenant=tenant, client=client, kind="expired", key="expired:7")
    new = migrate(AFTER)
    outbox = new.get_model("events", "OutboxEmail")
    carried = list(outbox.objects.filter(tenant_id=tenant.pk).values_list("key", "status"))
    assert carried == [("expiring:7", "sent")]

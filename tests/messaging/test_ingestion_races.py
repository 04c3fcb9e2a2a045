"""Ingestion against another writer of the same keys: a record whose key another batch is
inserting waits for it and is answered "duplicate" once that batch commits, so that each key
is stored and answered "accepted" once (the insert's ON CONFLICT, not an earlier look-up)."""

import threading
import time

import pytest
from django_scopes import scopes_disabled

from messaging.models import Message
from messaging.services import ItemState, messages_ingest
from tests.billing.test_batch_concurrency import own_connection
from tests.factories import ClientFactory, message_record

pytestmark = pytest.mark.django_db(transaction=True)


def _insert_uncommitted(blocker, tenant, client, key: str) -> None:
    """Another batch's row with `key`, inserted and not yet committed."""
    blocker.execute(
        "INSERT INTO messaging_message (tenant_id, client_id, key, channel, sender, recipient, "
        "country, operator, operator_source, mcc_mnc, parts, status, price, sent_at, day) "
        "VALUES (%s, %s, %s, 'sms', 'Other', '+37129123456', 'LV', 'LMT', 'prefix', '', 1, "
        "'sent', 0, now(), '2026-03-10')",
        [tenant.pk, client.pk, key],
    )


def _commit_once_waited_for(blocker) -> None:
    watcher = own_connection()
    watcher.autocommit = True
    deadline = time.monotonic() + 30
    try:
        while not watcher.execute(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> %s",
            [blocker.info.backend_pid],
        ).fetchone():
            assert time.monotonic() < deadline, "the batch never waited for the other's key"
            time.sleep(0.02)
        blocker.commit()
    finally:
        watcher.close()


def test_a_key_another_batch_is_inserting_is_answered_duplicate(tenant):
    client = ClientFactory(tenant=tenant)
    blocker = own_connection()
    try:
        _insert_uncommitted(blocker, tenant, client, "raced")
        committer = threading.Thread(target=_commit_once_waited_for, args=(blocker,))
        committer.start()
        result = messages_ingest(
            tenant=tenant,
            records=[message_record(client, key="raced"), message_record(client, key="mine")],
            answer_items=True,
        )
        committer.join(timeout=30)
    finally:
        blocker.close()
    assert (result.created, result.duplicates) == (1, 1)
    assert [(item.key, item.state) for item in result.items] == [
        ("raced", ItemState.DUPLICATE),
        ("mine", ItemState.ACCEPTED),
    ]
    with scopes_disabled():
        stored = dict(Message.objects.filter(tenant=tenant).values_list("key", "sender"))
    assert stored == {"raced": "Other", "mine": "Shop"}  # the other batch's row is kept

"""A key committed by another connection while a job's chunk waited for its accounts' locks
(the chunk's statement read the keys before the wait, so its INSERT meets the ledger's unique
key): renewals and daily charges answer it as a replay, also when the chunk's retry meets
another one, and the job neither fails nor posts twice (PostgreSQL, real connections)."""

import threading
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django_scopes import scopes_disabled

from billing.models import Account, EntryKind, LedgerEntry
from messaging.models import MessagingCharge
from messaging.services import charge_key, messages_ingest, messaging_charges_post, rollups_refresh
from subscriptions.models import Subscription
from subscriptions.services import expiry_run, renewal_key
from tests.billing.test_batch_concurrency import own_connection
from tests.factories import ClientFactory, TenantFactory, make_account, message_record
from tests.holds.test_job_concurrency import NOW
from tests.jobs.test_batch_jobs import due_subscriptions

pytestmark = pytest.mark.django_db(transaction=True)

_LOCK_STATEMENT = "FOR UPDATE OF a"  # billing's statement that locks a chunk's accounts


class KeyRacer:
    """An execute wrapper on the job's connection: before the job's account-lock statement
    that includes the next raced account, another connection locks that account's row, and
    once the job waits for it, posts the raced key itself and commits. Each race once."""

    def __init__(self, races):
        self.races = list(races)  # (account id, signed amount, kind, key)
        self.threads = []

    def __call__(self, execute, sql, params, many, context):
        if _LOCK_STATEMENT in sql and self.races and self.races[0][0] in params[-1]:
            race = self.races.pop(0)
            blocker = own_connection()
            blocker.execute("SELECT 1 FROM billing_account WHERE id = %s FOR UPDATE", [race[0]])
            thread = threading.Thread(target=self._post_when_waited_for, args=(blocker, race))
            thread.start()
            self.threads.append(thread)
        return execute(sql, params, many, context)

    @staticmethod
    def _post_when_waited_for(blocker, race):
        account_id, amount, kind, key = race
        watcher = own_connection()
        watcher.autocommit = True
        deadline = time.monotonic() + 30
        try:
            while not watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> %s",
                [blocker.info.backend_pid],
            ).fetchone():
                assert time.monotonic() < deadline, "the chunk never waited for the lock"
                time.sleep(0.02)
            blocker.execute(
                "INSERT INTO billing_ledgerentry (tenant_id, account_id, created_at, amount, "
                "kind, purpose, comment, balance_after, idempotency_key) SELECT tenant_id, id, "
                "now(), %s, %s, '\"Raced\"', '', balance + %s, %s FROM billing_account "
                "WHERE id = %s",
                [amount, kind, amount, key, account_id],
            )
            blocker.execute(
                "UPDATE billing_account SET balance = balance + %s, last_posted_at = now() "
                "WHERE id = %s",
                [amount, account_id],
            )
            blocker.commit()
        finally:
            blocker.close()
            watcher.close()

    def join(self):
        for thread in self.threads:
            thread.join(timeout=30)
        assert not self.races, "a race did not happen"


def raced(races, job):
    racer = KeyRacer(races)
    with connection.execute_wrapper(racer), scopes_disabled():
        outcome = job()
    racer.join()
    return outcome


def test_renewals_replay_keys_committed_while_their_chunk_and_its_retry_waited():
    tenant = TenantFactory()
    # Funds 25 and 30: enough after the raced charge too, which the chunk sees once locked.
    subscriptions = due_subscriptions(tenant)[1:5:3]
    with scopes_disabled():
        accounts = [Account.objects.get(client_id=s.client_id).pk for s in subscriptions]
    races = [
        (account, Decimal("-10.00"), EntryKind.SUBSCRIPTION_PURCHASE, renewal_key(s.pk))
        for account, s in zip(accounts, subscriptions, strict=True)
    ]
    result = raced(races, lambda: expiry_run(tenant=tenant, now=NOW))
    assert (result["renewed"], result["renewal_errors"]) == (5, 0), result
    with scopes_disabled():
        for subscription in subscriptions:
            charges = LedgerEntry.objects.filter(idempotency_key=renewal_key(subscription.pk))
            assert [str(e.purpose) for e in charges] == ["Raced"]  # the other connection's, once
            assert Subscription.objects.filter(renewal_of=subscription).count() == 1
    call_command("audit_ledger")


def test_daily_charges_replay_keys_committed_while_their_chunk_and_its_retry_waited():
    tenant = TenantFactory()
    clients = [ClientFactory(tenant=tenant, sms_price=Decimal("0.05")) for _ in range(3)]
    for client in clients:
        make_account(client)
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(c, key=f"race-{c.number}-{i}", sent_at="2026-03-10T10:00Z")
            for c in clients
            for i in range(1 + c.number % 3)
        ],
    )
    rollups_refresh(tenant=tenant)
    with scopes_disabled():
        rows = list(MessagingCharge.objects.filter(tenant=tenant).order_by("client_id"))[:2]
        accounts = {a.client_id: a.pk for a in Account.objects.filter(tenant=tenant)}
    races = [
        (
            accounts[row.client_id],
            -row.due_amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            EntryKind.MESSAGING_CHARGE,
            charge_key(tenant, row.client_id, row.day, 0),
        )
        for row in rows
    ]
    now = NOW.replace(year=2026, month=3, day=12)
    result = raced(races, lambda: messaging_charges_post(tenant=tenant, now=now))
    assert (result.charged, result.failed) == (3, 0), result
    with scopes_disabled():
        assert MessagingCharge.objects.filter(tenant=tenant, settled=False).count() == 0
        for row in rows:
            key = charge_key(tenant, row.client_id, row.day, 0)
            assert [str(e.purpose) for e in LedgerEntry.objects.filter(idempotency_key=key)] == [
                "Raced"
            ]
    call_command("audit_ledger")

"""Batches and single postings at once on PostgreSQL, each thread with its own connection and
real transactions (transaction=True): the accounts' locks in id order keep the ledger right
and free of deadlocks, the keys post once, and a connection killed in the middle of a batch
leaves its committed chunks and nothing of the chunk it was in."""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django_scopes import scopes_disabled

from billing.models import Account, EntryKind, LedgerEntry
from billing.services import (
    InsufficientFunds,
    Posting,
    account_charge,
    account_top_up,
    ledger_post_batch,
)
from core.stored_text import literal_text, stored_gettext
from tests.billing.test_ledger_concurrency import run_parallel
from tests.factories import ClientFactory, TenantFactory, make_account

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = 240
AMOUNTS = [Decimal("7.00"), Decimal("-3.00"), Decimal("-45.00"), Decimal("2.50")]


def planned(accounts, key: int) -> Posting:
    """Key n always means the same posting, whoever sends it: a second sender replays it."""
    amount = AMOUNTS[key % len(AMOUNTS)]
    return Posting(
        account_id=accounts[key % len(accounts)].pk,
        amount=amount,
        kind=EntryKind.TOP_UP if amount > 0 else EntryKind.ADJUSTMENT,
        purpose=stored_gettext("Account top-up") if amount > 0 else literal_text("Concurrent"),
        idempotency_key=f"c:{key}",
    )


def post_single(account, posting):
    if posting.amount > 0:
        return account_top_up(
            account=account, amount=posting.amount, idempotency_key=posting.idempotency_key
        )
    return account_charge(
        account=account,
        amount=-posting.amount,
        purpose=posting.purpose,
        idempotency_key=posting.idempotency_key,
    )


def audit_is_clean():
    call_command("audit_ledger")  # raises CommandError when anything is off


def test_batches_and_single_postings_on_overlapping_accounts_post_every_key_once():
    tenant = TenantFactory()
    with scopes_disabled():
        accounts = [make_account(ClientFactory(tenant=tenant), balance="40") for _ in range(10)]
    by_pk = {a.pk: a for a in accounts}
    rng = random.Random(14)
    jobs, answered = [], []

    def batch(keys):
        def job():
            with scopes_disabled():
                results = ledger_post_batch(
                    tenant=tenant, postings=[planned(accounts, k) for k in keys], chunk_size=7
                )
            return [(r.posting.idempotency_key, r.entry and r.entry.pk, r.error) for r in results]

        return job

    def single(key):
        def job():
            posting = planned(accounts, key)
            with scopes_disabled():
                account = Account.objects.select_related("tenant").get(pk=posting.account_id)
                try:
                    entry = post_single(account, posting)
                except InsufficientFunds as exc:
                    return [(posting.idempotency_key, None, exc)]
            return [(posting.idempotency_key, entry.pk, None)]

        return job

    for _ in range(16):
        jobs.append(batch(rng.sample(range(KEYS), 30)))  # overlapping keys and accounts
    for key in rng.choices(range(KEYS), k=60):
        jobs.append(single(key))
    for outcome in run_parallel(jobs, threads=8):
        assert not isinstance(outcome, Exception), outcome
        answered += outcome
    with scopes_disabled():
        posted = dict(
            LedgerEntry.objects.filter(tenant=tenant, idempotency_key__startswith="c:").values_list(
                "idempotency_key", "pk"
            )
        )
        balances = dict(Account.objects.filter(tenant=tenant).values_list("pk", "balance"))
    for key, entry_id, error in answered:
        if error is None:
            assert posted[key] == entry_id, key  # every answer names the one entry of its key
        else:
            assert isinstance(error, InsufficientFunds), error
    assert len(posted) == len(set(posted.values()))
    assert all(balance >= 0 for balance in balances.values())  # no charge overdrew
    assert len(by_pk) == len(balances)
    audit_is_clean()


def backend_waiting_for_a_lock(timeout=30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            row = cursor.fetchone()
        if row:
            return row[0]
        time.sleep(0.05)
    raise AssertionError("no posting waited for the account's lock")


def own_connection():
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
    )


def test_a_connection_killed_mid_batch_keeps_the_chunks_before_and_nothing_of_its_own():
    tenant = TenantFactory()
    with scopes_disabled():
        accounts = [make_account(ClientFactory(tenant=tenant)) for _ in range(20)]
    postings = [
        Posting(a.pk, Decimal("5.00"), EntryKind.TOP_UP, literal_text("Batch"), f"kill:{i}")
        for i, a in enumerate(accounts)
    ]
    outcome = []

    def post():
        try:
            with scopes_disabled():
                ledger_post_batch(tenant=tenant, postings=postings, chunk_size=5)
        except Exception as exc:  # the killed connection: checked below
            outcome.append(exc)
        finally:
            connection.close()

    blocker = own_connection()  # holds account 16's row: the fourth chunk waits for it
    blocker.execute("SELECT 1 FROM billing_account WHERE id = %s FOR UPDATE", [accounts[16].pk])
    thread = threading.Thread(target=post)
    thread.start()
    pid = backend_waiting_for_a_lock()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    thread.join(timeout=30)
    blocker.rollback()
    blocker.close()
    assert len(outcome) == 1 and "terminat" in str(outcome[0]).lower(), outcome
    with scopes_disabled():
        posted = set(
            LedgerEntry.objects.filter(tenant=tenant).values_list("idempotency_key", flat=True)
        )
        assert posted == {f"kill:{i}" for i in range(15)}  # three chunks of five committed
        again = ledger_post_batch(tenant=tenant, postings=postings, chunk_size=5)
        assert [r.entry.replayed for r in again] == [True] * 15 + [False] * 5
        assert LedgerEntry.objects.filter(tenant=tenant).count() == 20
        assert set(Account.objects.filter(tenant=tenant).values_list("balance", flat=True)) == {
            Decimal("5.00")
        }
    audit_is_clean()


@pytest.mark.parametrize("path", ["single", "batch"])
def test_a_key_posted_while_its_retry_waited_for_the_lock_is_replayed_not_refused(path):
    """The first request takes the whole balance and holds the lock; its retry, under the same
    key, waits. Once the first commits, the retry sees no funds left: it must answer with the
    first entry (a replay), not refuse for funds that the first took."""
    tenant = TenantFactory()
    with scopes_disabled():
        account = make_account(ClientFactory(tenant=tenant), balance="40")
    holding, release = threading.Event(), threading.Event()

    def charge():
        with scopes_disabled():
            fresh = Account.objects.select_related("tenant").get(pk=account.pk)
            return account_charge(
                account=fresh, amount="40", purpose=literal_text("Raced"), idempotency_key="raced"
            )

    def first():
        try:
            with transaction.atomic():
                entry = charge()
                holding.set()
                release.wait(30)
            return entry.pk
        finally:
            connection.close()

    def batch_charge():
        posting = Posting(
            account_id=account.pk,
            amount=Decimal("-40.00"),
            kind=EntryKind.ADJUSTMENT,
            purpose=literal_text("Raced"),
            idempotency_key="raced",
        )
        with scopes_disabled():
            (result,) = ledger_post_batch(tenant=tenant, postings=[posting])
        assert result.error is None, result.error
        return result.entry

    def retry():
        try:
            return (charge() if path == "single" else batch_charge()).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first_done = pool.submit(first)
        assert holding.wait(30)
        retry_done = pool.submit(retry)
        backend_waiting_for_a_lock()
        release.set()
        assert retry_done.result(timeout=30) == first_done.result(timeout=30)
    with scopes_disabled():
        account.refresh_from_db()
        assert account.balance == Decimal("0.00")
        assert LedgerEntry.objects.filter(idempotency_key="raced").count() == 1
    audit_is_clean()

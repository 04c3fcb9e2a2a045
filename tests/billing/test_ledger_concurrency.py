"""Real parallel postings on PostgreSQL: each thread has its own connection and its own
transactions (transaction=True), so that the row lock is what keeps the ledger right."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django_scopes import scopes_disabled

from billing.models import Account, LedgerEntry
from billing.services import (
    IdempotencyConflict,
    InsufficientFunds,
    account_charge,
    account_top_up,
)
from core.stored_text import literal_text
from tests.factories import ClientFactory, TenantFactory, make_account

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 16


def run_parallel(jobs, threads=THREADS):
    """Run callables on `threads` threads that start together; each closes its connection."""
    barrier = threading.Barrier(threads)
    queue = list(jobs)
    lock = threading.Lock()
    results = []

    def worker():
        barrier.wait()
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop()
                try:
                    outcome = job()
                except Exception as exc:  # collected and checked by the test
                    outcome = exc
                with lock:
                    results.append(outcome)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()
    return results


def chain_is_unbroken(account) -> list[LedgerEntry]:
    with scopes_disabled():
        entries = list(LedgerEntry.objects.filter(account=account).order_by("created_at", "id"))
    previous = Decimal("0.00")
    for entry in entries:
        assert entry.balance_after == previous + entry.amount, f"chain broken at {entry.pk}"
        previous = entry.balance_after
    return entries


def test_hundreds_of_concurrent_top_ups_and_charges_lose_nothing():
    tenant = TenantFactory()
    account = make_account(ClientFactory(tenant=tenant), credit_limit="100")
    rng = random.Random(7)
    jobs = []
    for i in range(200):
        top_up = Decimal(rng.randint(100, 500)) / 100
        charge = Decimal(rng.randint(100, 2000)) / 100
        jobs.append(
            lambda a=top_up, i=i: account_top_up(account=account, amount=a, comment=f"t{i}")
        )
        jobs.append(
            lambda c=charge: account_charge(account=account, amount=c, purpose=literal_text("SMS"))
        )
    rng.shuffle(jobs)

    results = run_parallel(jobs)

    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, InsufficientFunds)
    ]
    assert unexpected == []
    posted = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert len(posted) + len(refused) == 400
    assert refused, "the charges should have hit the credit limit at some point"
    entries = chain_is_unbroken(account)
    assert len(entries) == len(posted)
    with scopes_disabled():
        balance = Account.objects.get(pk=account.pk).balance
    assert balance == sum(e.amount for e in posted) == entries[-1].balance_after
    # Charges never took available funds below zero.
    assert min(e.balance_after for e in entries) >= Decimal("-100.00")
    call_command("audit_ledger")


def test_concurrent_posts_with_the_same_key_post_once():
    tenant = TenantFactory()
    account = make_account(ClientFactory(tenant=tenant))
    jobs = [
        lambda: account_top_up(account=account, amount=Decimal("25.00"), idempotency_key="same")
        for _ in range(50)
    ]
    results = run_parallel(jobs)
    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert sum(1 for r in results if not r.replayed) == 1
    with scopes_disabled():
        assert Account.objects.get(pk=account.pk).balance == Decimal("25.00")
        assert LedgerEntry.objects.filter(account=account).count() == 1


def test_same_key_on_many_accounts_at_once_posts_once():
    tenant = TenantFactory()
    accounts = [make_account(ClientFactory(tenant=tenant)) for _ in range(THREADS)]
    jobs = [
        lambda a=a: account_top_up(account=a, amount=Decimal("5.00"), idempotency_key="shared")
        for a in accounts
    ]
    results = run_parallel(jobs)
    assert sum(isinstance(r, LedgerEntry) for r in results) == 1
    assert all(
        isinstance(r, IdempotencyConflict) for r in results if not isinstance(r, LedgerEntry)
    )
    with scopes_disabled():
        assert LedgerEntry.objects.filter(tenant=tenant).count() == 1
        assert sum(Account.objects.filter(tenant=tenant).values_list("balance", flat=True)) == 5


def test_parallel_postings_on_distinct_accounts():
    tenant = TenantFactory()
    accounts = [make_account(ClientFactory(tenant=tenant)) for _ in range(8)]
    jobs = [
        lambda a=a: account_top_up(account=a, amount=Decimal("1.00"))
        for a in accounts
        for _ in range(25)
    ]
    results = run_parallel(jobs, threads=8)
    assert all(isinstance(r, LedgerEntry) for r in results)
    with scopes_disabled():
        assert set(Account.objects.filter(tenant=tenant).values_list("balance", flat=True)) == {
            Decimal("25.00")
        }
    call_command("audit_ledger", tenant=tenant.slug)


def test_credit_notice_task_run_at_once_by_several_workers_sends_once():
    from django.core import mail

    from billing.services import account_set_credit_limit
    from events.outbox import OutboxEmail
    from events.tasks import outbox_emails_send

    tenant = TenantFactory()
    account = make_account(ClientFactory(tenant=tenant, email="c@example.com"))
    with scopes_disabled():
        change = account_set_credit_limit(account=account, credit_limit="10", notify=True)
        email = OutboxEmail.objects.get(key=f"credit:{change.pk}")
        # Sent at the commit; owed again, as if the worker had died before marking it.
        OutboxEmail.objects.filter(pk=email.pk).update(status="queued", finished_at=None)
    mail.outbox.clear()
    results = run_parallel([lambda: outbox_emails_send(tenant.pk, [email.pk])] * 4, threads=4)
    assert sorted(results) == [0, 0, 0, 1]
    assert len(mail.outbox) == 1
    with scopes_disabled():
        assert OutboxEmail.objects.get(pk=email.pk).status == "sent"

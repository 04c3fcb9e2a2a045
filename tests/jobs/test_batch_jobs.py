"""The jobs that post for many clients, on billing's batch path with small chunks: renewals and
daily messaging charges run twice, or by two workers at once (their chunks racing, without the
job's lock), give the state of one run; a worker killed with `kill -9` in the middle of a
renewal chunk or of a daily charges chunk loses nothing and charges nothing twice (PostgreSQL,
real connections, a real Celery worker; see test_worker_kills.py for how the work is caught
mid-way)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django_scopes import scopes_disabled

from billing.models import Account, LedgerEntry
from core.models import JobRun, JobStatus
from messaging.models import MessagingCharge
from messaging.services import (
    charge_key,
    messages_ingest,
    messaging_charges_post,
    rollups_refresh,
)
from messaging.tasks import messaging_charges_post_for_tenant
from subscriptions.models import Subscription, SubscriptionStatus, tenant_today
from subscriptions.services import expiry_run, renewal_key
from subscriptions.tasks import expiry_run as expiry_run_task
from tests.factories import (
    ClientFactory,
    PackageFactory,
    SubscriptionFactory,
    TenantFactory,
    make_account,
    message_record,
)
from tests.holds.test_job_concurrency import END, NOW, parallel
from tests.jobs.processes import (
    backends_gone,
    nothing_running,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

FUNDS = ["10", "25", "10", "5", "30", "0", "10"]  # 10.00 renews one period; 5 and 0 do not


def due_subscriptions(tenant, end=END):
    package = PackageFactory(
        tenant=tenant, name="Monthly", price=Decimal("10.00"), period_count=30, period_unit="days"
    )
    subscriptions = []
    for funds in FUNDS:
        client = ClientFactory(tenant=tenant)
        make_account(client, balance=funds if funds != "0" else None)
        subscriptions.append(
            SubscriptionFactory(
                tenant=tenant,
                client=client,
                package=package,
                start_date=end - timedelta(days=30),
                end_date=end,
                auto_renew=True,
            )
        )
    return subscriptions


def state_of(tenant):
    """Per client, in creation order: its periods, its balance and its ledger, without ids."""
    with scopes_disabled():
        periods = [
            (s.client.number, s.status, s.start_date, s.end_date, s.amount_paid)
            for s in Subscription.objects.filter(tenant=tenant).select_related("client")
        ]
        entries = [
            (e.account.client.number, e.amount, e.kind, str(e.purpose), e.balance_after)
            for e in LedgerEntry.objects.filter(tenant=tenant).select_related("account__client")
        ]
        balances = list(
            Account.objects.filter(tenant=tenant)
            .order_by("client__number")
            .values_list("client__number", "balance")
        )
    return sorted(periods), sorted(entries), balances


@mock.patch("subscriptions.lifecycle.RENEWAL_CHUNK", 2)
def test_renewals_twice_or_by_two_workers_at_once_give_one_runs_state():
    once, raced = TenantFactory(), TenantFactory()
    for tenant in (once, raced):
        due_subscriptions(tenant)
    with scopes_disabled():
        first = expiry_run(tenant=once, now=NOW)
    assert (first["renewed"], first["expired"]) == (5, 2)
    results = parallel(*[lambda: expiry_run(tenant=raced, now=NOW)] * 2)
    assert sum(r["renewed"] for r in results) == 5
    with scopes_disabled():
        again = [expiry_run(tenant=t, now=NOW) for t in (once, raced)]
        for tenant in (once, raced):
            keys = LedgerEntry.objects.filter(
                tenant=tenant, idempotency_key__startswith="sub-renewal:"
            ).values_list("idempotency_key", flat=True)
            assert len(keys) == len(set(keys)) == 5
    assert [(r["renewed"], r["expired"]) for r in again] == [(0, 0), (0, 0)]
    assert state_of(once) == state_of(raced)
    call_command("audit_ledger")


def test_daily_charges_twice_or_by_two_workers_at_once_give_one_runs_state():
    once, raced = TenantFactory(), TenantFactory()
    for tenant in (once, raced):
        clients = [ClientFactory(tenant=tenant, sms_price=Decimal("0.05")) for _ in range(5)]
        messages_ingest(
            tenant=tenant,
            records=[
                message_record(c, key=f"{c.number}-{day}-{i}", sent_at=f"2026-03-{day:02d}T10:00Z")
                for c in clients
                for day in (8, 9, 10)
                for i in range(1 + c.number % 3)
            ],
        )
        rollups_refresh(tenant=tenant)
    now = NOW.replace(year=2026, month=3, day=12)

    def charge(tenant):
        return lambda: messaging_charges_post(tenant=tenant, now=now, chunk_size=2)

    first = charge(once)()
    raced_results = parallel(charge(raced), charge(raced))
    assert first.charged == sum(r.charged for r in raced_results) == 15
    assert [charge(t)().charged for t in (once, raced)] == [0, 0]
    assert state_of(once) == state_of(raced)
    call_command("audit_ledger")


def test_worker_killed_mid_renewal_chunk_loses_and_doubles_nothing(workers, table_lock):
    worker = workers()
    tenant = TenantFactory()
    subscriptions = due_subscriptions(tenant, end=tenant_today(tenant))
    lock = table_lock(LedgerEntry._meta.db_table)  # the chunk waits on it, subscriptions locked
    expiry_run_task.delay(tenant.pk)
    wait_until(lock.waiters, 60, "renewal chunk blocked on the ledger")
    worker.kill_pool()
    lock.release()
    wait_until(backends_gone, 30, "the killed pool process's session ends")
    next_run = expiry_run_task.apply_async((tenant.pk,), ignore_result=False)
    next_run.get(timeout=30)
    next_run.forget()
    # The killed task's redelivery may still be running (it finds nothing left to do).
    wait_until(nothing_running, 30, "the redelivered run ends")
    with scopes_disabled():
        for subscription, funds in zip(subscriptions, FUNDS, strict=True):
            renewed = Subscription.objects.filter(renewal_of=subscription)
            charges = LedgerEntry.objects.filter(idempotency_key=renewal_key(subscription.pk))
            expected = 1 if Decimal(funds) >= 10 else 0
            assert (renewed.count(), charges.count()) == (expected, expected), funds
            subscription.refresh_from_db()
            assert subscription.status == SubscriptionStatus.EXPIRED
        runs = JobRun.objects.filter(tenant=tenant).order_by("pk")
        assert runs.first().status == JobStatus.FAILED
        assert sum(run.result.get("renewed", 0) for run in runs if run.result) == 5
    call_command("audit_ledger")
    wait_until(nothing_running, 30, "every run ends (a late redelivery finds the work done)")


def test_worker_killed_mid_daily_charges_chunk_loses_and_doubles_nothing(workers, table_lock):
    worker = workers()
    tenant = TenantFactory()
    clients = [ClientFactory(tenant=tenant, sms_price=Decimal("0.05")) for _ in range(3)]
    today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=back) for back in (3, 2)]  # closed days in any time zone
    messages_ingest(
        tenant=tenant,
        records=[
            message_record(c, key=f"kill-{c.number}-{d:%d}-{i}", sent_at=d.isoformat())
            for c in clients
            for d in days
            for i in range(1 + c.number % 3)
        ],
    )
    rollups_refresh(tenant=tenant)
    lock = table_lock(LedgerEntry._meta.db_table)  # the chunk waits on it, charge rows locked
    messaging_charges_post_for_tenant.delay(tenant.pk)
    wait_until(lock.waiters, 60, "daily charges chunk blocked on the ledger")
    worker.kill_pool()
    lock.release()
    wait_until(backends_gone, 30, "the killed pool process's session ends")
    next_run = messaging_charges_post_for_tenant.apply_async((tenant.pk,), ignore_result=False)
    next_run.get(timeout=30)
    next_run.forget()
    with scopes_disabled():
        rows = list(MessagingCharge.objects.filter(tenant=tenant))
        assert len(rows) == 6 and all(row.settled and row.postings == 1 for row in rows)
        for row in rows:
            key = charge_key(tenant, row.client_id, row.day, 0)
            charges = LedgerEntry.objects.filter(tenant=tenant, idempotency_key=key)
            assert [e.amount for e in charges] == [-row.charged_amount], key
            assert row.charged_amount == row.due_amount.quantize(Decimal("0.01")) > 0
        owed = {c.pk: -sum(r.charged_amount for r in rows if r.client_id == c.pk) for c in clients}
        balances = dict(Account.objects.filter(tenant=tenant).values_list("client_id", "balance"))
        assert balances == owed
        runs = JobRun.objects.filter(tenant=tenant, job="messaging_charges").order_by("pk")
        assert runs.first().status == JobStatus.FAILED
        assert sum(run.result.get("charged", 0) for run in runs if run.result) == 6
    call_command("audit_ledger")
    wait_until(nothing_running, 30, "every run ends (a late redelivery finds the work done)")

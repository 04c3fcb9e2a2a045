"""Workers killed with `kill -9` during an export and during a holds job: a real Celery worker
(prefork, as in production) in a subprocess on the run's PostgreSQL database and Redis queue,
with leases and the visibility timeout shortened through the environment so that recovery takes
seconds. The work is caught mid-way deterministically: the test holds a lock on a table the
job reads, waits until the worker blocks on it, kills, then lets go.

Killing the pool process (what the OOM killer does) gets the message redelivered at once; the
export it finds still under the dead worker's lease is left alone until beat's sweep requeues it;
the holds job's redelivery finds the dead run's lock still held, and the next run fails that run
with its reason and does the work. Killing the whole worker leaves the message unacknowledged in
Redis: the next worker gets it once the visibility timeout has passed, and takes over."""

import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from billing.models import LedgerEntry
from billing.services import account_charge, account_top_up
from clients.models import ClientStatus
from config.celery import app
from core.models import JobRun, JobStatus
from core.stored_text import literal_text
from exports.models import ExportJob, ExportStatus
from holds.models import ClientHold, FundsShortfall, HoldKind
from holds.tasks import financial_holds_run
from tests.factories import ClientFactory, MembershipFactory, TenantFactory, make_account
from tests.helpers import ledger_export_create

from .processes import LEASE, VISIBILITY, TableLock, backends_gone, nothing_running, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


# -- an export ------------------------------------------------------------------------------
def client_with_transactions(tenant):
    """A client with 40 transactions in March 2026, and an accountant."""
    operator = MembershipFactory(tenant=tenant, role="accountant")
    customer = ClientFactory(tenant=tenant)
    account = make_account(customer)
    for day in range(1, 21):
        at = datetime(2026, 3, day, 10, tzinfo=tenant.zone)
        account_top_up(account=account, amount="10", at=at)
        account_charge(account=account, amount="3.5", purpose=literal_text(f"=day {day}"), at=at)
    return operator, customer


def export_blocked_mid_way(tenant, table_lock) -> tuple[ExportJob, TableLock]:
    """The export of those transactions, queued on commit, its worker blocked reading them."""
    operator, customer = client_with_transactions(tenant)
    lock = table_lock(LedgerEntry._meta.db_table)
    job = ledger_export_create(operator.user, customer)
    wait_until(lock.waiters, 60, "export blocked on the ledger")
    with scopes_disabled():
        job.refresh_from_db()
    assert (job.status, job.attempts) == (ExportStatus.RUNNING, 1)
    return job, lock


def assert_exported_once(job, media_root: Path) -> None:
    with scopes_disabled():
        job.refresh_from_db()
        assert job.status == ExportStatus.DONE, job.error
        assert (job.progress, job.total, job.attempts) == (40, 40, 2)
        assert job.lease_expires_at is None and job.finished_at
        with job.file.open("rb") as handle:
            sheet = load_workbook(handle).active
    assert sheet.max_row == 41
    assert "'=day 7" in {sheet.cell(row=r, column=5).value for r in range(2, 42)}
    assert [p.name for p in media_root.rglob("*.xlsx")] == [Path(job.file.name).name]
    wait_until(nothing_running, 30, "every run ends (a late redelivery finds the work done)")


def export_finished(job):
    with scopes_disabled():
        job.refresh_from_db()
    return job.status in (ExportStatus.DONE, ExportStatus.FAILED)


def test_pool_killed_during_an_export_the_sweep_restarts_it(workers, table_lock, tmp_path):
    worker = workers()
    tenant = TenantFactory()
    job, lock = export_blocked_mid_way(tenant, table_lock)
    worker.kill_pool()
    lock.release()
    wait_until(backends_gone, 30, "the killed pool process's session ends")
    # The message, redelivered at once, found the dead worker's lease still live.
    wait_until(lambda: "left to its worker" in worker.log.read_text(), LEASE, "redelivery")
    with scopes_disabled():
        job.refresh_from_db()
    assert (job.status, job.attempts) == (ExportStatus.RUNNING, 1)

    def sweep_until_finished():  # what beat does every LEASE_SWEEP_INTERVAL seconds
        app.send_task("core.tasks.leases_sweep")
        return export_finished(job)

    wait_until(sweep_until_finished, LEASE + 30, "export recovered by the sweep")
    assert_exported_once(job, tmp_path / "media")


def test_worker_killed_during_an_export_the_next_worker_takes_it_over(
    workers, table_lock, tmp_path
):
    worker = workers()
    tenant = TenantFactory()
    job, lock = export_blocked_mid_way(tenant, table_lock)
    killed_at = time.monotonic()
    worker.kill_all()
    lock.release()
    wait_until(backends_gone, 30, "the killed worker's session ends")
    workers()  # no sweep: the broker's redelivery alone
    wait_until(lambda: export_finished(job), VISIBILITY + 40, "export redelivered")
    assert time.monotonic() - killed_at >= VISIBILITY - 1
    assert_exported_once(job, tmp_path / "media")


# -- a holds job ----------------------------------------------------------------------------
def client_in_debt(tenant):
    """A client whose funds have been below zero for longer than the grace period."""
    customer = ClientFactory(tenant=tenant, email="client@example.com")
    account = make_account(customer)
    with scopes_disabled():
        account_charge(
            account=account,
            amount=Decimal("5"),
            purpose=literal_text("Usage"),
            allow_overdraft=True,
        )
        FundsShortfall.objects.filter(client=customer).update(
            since=timezone.now() - timedelta(days=60)
        )
    return customer


def holds_job_blocked_mid_way(tenant, table_lock) -> tuple[JobRun, TableLock]:
    lock = table_lock(FundsShortfall._meta.db_table)
    financial_holds_run.delay(tenant.pk)
    wait_until(lock.waiters, 60, "holds job blocked on the shortfalls")
    with scopes_disabled():
        run = JobRun.objects.get(tenant=tenant)
    assert (run.status, run.attempts) == (JobStatus.RUNNING, 1)
    return run, lock


def assert_held_once(tenant, customer, dead_run) -> None:
    # The killed task may be redelivered beside the next run: it finds the work done, and ends.
    wait_until(nothing_running, 30, "every run of the job ends")
    with scopes_disabled():
        holds = ClientHold.objects.filter(client=customer, kind=HoldKind.FINANCIAL)
        assert holds.count() == 1 and holds.get().in_force
        customer.refresh_from_db()
        assert customer.status == ClientStatus.FINANCIAL_HOLD
        dead_run.refresh_from_db()
        assert dead_run.status == JobStatus.FAILED and dead_run.finished_at
        assert dead_run.error == JobRun.lease_interrupted_reason(1)
        done = JobRun.objects.filter(tenant=tenant, status=JobStatus.OK).order_by("pk")
        assert done.first().result["held"] == 1
        assert sum(run.result["held"] for run in done) == 1


def run_done(tenant):
    with scopes_disabled():
        return JobRun.objects.filter(tenant=tenant, status=JobStatus.OK).exists()


def test_pool_killed_during_a_holds_job_the_next_run_fails_it_and_does_the_work(
    workers, table_lock
):
    worker = workers()
    tenant = TenantFactory()
    customer = client_in_debt(tenant)
    dead_run, lock = holds_job_blocked_mid_way(tenant, table_lock)
    worker.kill_pool()
    lock.release()
    wait_until(backends_gone, 30, "the killed pool process's session ends")
    # The next run beat queues; its result is kept (results are ignored otherwise) so that the
    # test waits for it, and forgotten after.
    next_run = financial_holds_run.apply_async((tenant.pk,), ignore_result=False)
    next_run.get(timeout=30)  # it did the work, or the redelivered task did it before
    next_run.forget()
    assert_held_once(tenant, customer, dead_run)


def test_worker_killed_during_a_holds_job_the_redelivered_task_does_the_work(workers, table_lock):
    worker = workers()
    tenant = TenantFactory()
    customer = client_in_debt(tenant)
    dead_run, lock = holds_job_blocked_mid_way(tenant, table_lock)
    worker.kill_all()
    lock.release()
    wait_until(backends_gone, 30, "the killed worker's session ends")
    workers()  # no new task: the broker's redelivery alone
    wait_until(lambda: run_done(tenant), VISIBILITY + 40, "holds job redelivered")
    assert_held_once(tenant, customer, dead_run)

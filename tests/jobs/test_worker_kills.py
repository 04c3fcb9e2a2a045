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

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from billing.models import LedgerEntry
from billing.services import account_charge, account_top_up
from clients.models import ClientStatus
from config.celery import app
from core.models import JobRun, JobStatus
from exports.models import ExportJob, ExportStatus
from holds.models import ClientHold, FundsShortfall, HoldKind
from holds.tasks import financial_holds_run
from tests.factories import ClientFactory, MembershipFactory, TenantFactory, make_account
from tests.helpers import ledger_export_create

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = 8  # seconds: an export's lease in the worker
VISIBILITY = 12  # seconds: above the worker's hard time limit (10 s)
ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout}s")


class Worker:
    """`celery worker` in its own process group, on this run's database and queue."""

    def __init__(self, media_root: Path, log: Path):
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = os.environ | {
            "DATABASE_URL": url,
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "CLIENTDESK_TESTING": "1",
            "MEDIA_ROOT": str(media_root),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "JOB_LEASE_SECONDS": str(LEASE),
            "CELERY_TASK_SOFT_TIME_LIMIT": "8",
            "CELERY_TASK_TIME_LIMIT": "10",
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        }
        if db.get("PASSWORD"):
            env["PGPASSWORD"] = db["PASSWORD"]
        self.log = log
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--without-mingle",
                "--without-gossip",
                "-n",
                f"kill-{uuid.uuid4().hex[:8]}@%h",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "-l",
                "info",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: "ready." in log.read_text(), 60, "worker ready")

    def pool_pid(self) -> int:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(wait_until(lambda: children.read_text().split(), 30, "pool process")[0])

    def kill_pool(self) -> None:
        pid = self.pool_pid()
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: self.pool_pid() != pid, 30, "new pool process")

    def kill_all(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill_all()


@pytest.fixture
def workers(tmp_path, settings):
    """start() -> a Worker; every worker is stopped at the end, with its log on failure."""
    settings.MEDIA_ROOT = tmp_path / "media"
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    started = []
    log = tmp_path / "worker.log"

    def start():
        started.append(Worker(tmp_path / "media", log))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()
    app.conf.task_always_eager = eager
    print(log.read_text() if log.exists() else "")


class TableLock:
    """An ACCESS EXCLUSIVE lock on one table, from a connection of its own."""

    def __init__(self, table: str):
        db = connection.settings_dict
        self.table = table
        self.conn = psycopg.connect(
            host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db.get("PASSWORD") or None,
            dbname=db["NAME"],
        )
        self.conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

    def waiters(self) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND NOT granted",
            [self.table],
        ).fetchone()[0]

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def backends_gone() -> bool:
    """No session but this test's still holds an advisory lock or waits on a table lock
    (the killed worker's database session ended)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE a.datname = current_database() AND l.pid <> pg_backend_pid() "
            "AND (l.locktype = 'advisory' OR NOT l.granted)"
        )
        return cursor.fetchone()[0] == 0


def nothing_running() -> bool:
    with scopes_disabled():
        return not (
            ExportJob.objects.filter(status=ExportStatus.RUNNING).exists()
            or JobRun.objects.filter(status=JobStatus.RUNNING).exists()
        )


@pytest.fixture
def table_lock():
    """table_lock(table) -> a TableLock, released at the end if the test did not."""
    locks = []

    def take(table):
        locks.append(TableLock(table))
        return locks[-1]

    yield take
    for lock in locks:
        if not lock.conn.closed:
            lock.release()


# -- an export ------------------------------------------------------------------------------
def client_with_transactions(tenant):
    """A client with 40 transactions in March 2026, and an accountant."""
    operator = MembershipFactory(tenant=tenant, role="accountant")
    customer = ClientFactory(tenant=tenant)
    account = make_account(customer)
    for day in range(1, 21):
        at = datetime(2026, 3, day, 10, tzinfo=tenant.zone)
        account_top_up(account=account, amount="10", at=at)
        account_charge(account=account, amount="3.5", purpose=f"=day {day}", at=at)
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
    assert nothing_running()


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
        account_charge(account=account, amount=Decimal("5"), purpose="Usage", allow_overdraft=True)
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
    assert nothing_running()


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

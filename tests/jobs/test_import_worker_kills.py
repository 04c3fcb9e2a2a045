"""A client import's worker killed with `kill -9` between two chunks of its commit, by the same
means as the exports' and holds' kills (tests/jobs/test_worker_kills.py): the first chunk is
committed, the worker blocks on the ledger in the second, and dies there. Whoever takes the
import over (the sweep after the lease expires, or the broker's redelivery to a new worker)
resumes after the committed chunk: every client is created once and every opening balance is
posted once."""

import time

import pytest
from django.core.management import call_command
from django_scopes import scope, scopes_disabled

from billing.models import LedgerEntry
from clients.importing import client_import_commit
from clients.models import Client, ClientImport, ImportStatus
from config.celery import app
from tests.clients.test_client_import import big_rows, upload, write_csv
from tests.factories import TenantFactory
from tests.jobs.processes import (
    LEASE,
    VISIBILITY,
    backends_gone,
    nothing_running,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 1200  # a chunk of 1,000 committed, then one of 200 under way when the worker dies
FIRST_CHUNK = 1000
REFUSED = sum(1 for i in range(ROWS) if i % 50 == 7)
# Opening balances only in the second chunk: the first commits without the ledger, which the
# test holds locked from the start, so that the second chunk waits on it however fast the
# first one was.
BALANCES = sum(1 for i in range(FIRST_CHUNK, ROWS) if i % 10 == 0)


def rows_with_balances_after_the_first_chunk() -> list[list]:
    rows = big_rows(ROWS)
    for row in rows[1 : FIRST_CHUNK + 1]:
        row[-1] = ""
    return rows


def rows_done(job) -> int:
    with scopes_disabled():
        return ClientImport.objects.get(pk=job.pk).rows_done


def import_blocked_after_its_first_chunk(tenant, table_lock, tmp_path):
    """The commit, queued to the worker, with the ledger locked: its first chunk commits, and
    the second waits on the ledger (for its opening balances)."""
    path = write_csv(tmp_path / "clients.csv", rows_with_balances_after_the_first_chunk())
    job = upload(tenant, path)
    lock = table_lock(LedgerEntry._meta.db_table)
    with scope(tenant=tenant):
        client_import_commit(job=job, actor=None)
    wait_until(lock.waiters, 120, "the second chunk blocked on the ledger")
    assert rows_done(job) == FIRST_CHUNK
    return job, lock


def import_finished(job) -> bool:
    with scopes_disabled():
        job.refresh_from_db()
    return job.status in (ImportStatus.DONE, ImportStatus.FAILED)


def assert_imported_once(tenant, job) -> None:
    with scopes_disabled():
        job.refresh_from_db()
        assert job.status == ImportStatus.DONE, job.error
        assert job.rows_done == ROWS and job.attempts == 2
        assert job.counts == {
            "created": ROWS - REFUSED,
            "updated": 0,
            "unchanged": 0,
            "refused": REFUSED,
        }
        assert job.refused_rows().count() == REFUSED
        assert Client.objects.filter(tenant=tenant).count() == ROWS - REFUSED
        openings = LedgerEntry.objects.filter(tenant=tenant, idempotency_key__startswith="opening:")
        assert openings.count() == BALANCES
        assert openings.values("account").distinct().count() == BALANCES
        assert not ClientImport.objects.filter(status=ImportStatus.RUNNING).exists()
    call_command("audit_ledger")
    wait_until(nothing_running, 30, "every run ends (a late redelivery finds the work done)")


def test_pool_killed_between_two_chunks_the_sweep_resumes_the_import(workers, table_lock, tmp_path):
    worker = workers()
    tenant = TenantFactory()
    job, lock = import_blocked_after_its_first_chunk(tenant, table_lock, tmp_path)
    worker.kill_pool()
    lock.release()
    wait_until(backends_gone, 30, "the killed pool process's session ends")

    def sweep_until_finished():  # what beat does every LEASE_SWEEP_INTERVAL seconds
        app.send_task("core.tasks.leases_sweep")
        return import_finished(job)

    wait_until(sweep_until_finished, LEASE + 60, "import resumed after the sweep")
    assert_imported_once(tenant, job)


def test_worker_killed_between_two_chunks_the_next_worker_resumes_the_import(
    workers, table_lock, tmp_path
):
    worker = workers()
    tenant = TenantFactory()
    job, lock = import_blocked_after_its_first_chunk(tenant, table_lock, tmp_path)
    killed_at = time.monotonic()
    worker.kill_all()
    lock.release()
    wait_until(backends_gone, 30, "the killed worker's session ends")
    workers()  # no sweep: the broker's redelivery alone
    wait_until(lambda: import_finished(job), VISIBILITY + 60, "import redelivered")
    assert time.monotonic() - killed_at >= VISIBILITY - 1
    assert_imported_once(tenant, job)

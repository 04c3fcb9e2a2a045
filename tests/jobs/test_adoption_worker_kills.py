"""An adoption of a router's secrets whose worker is killed with `kill -9` between two chunks,
by the same means as the import's kills (tests/jobs/test_import_worker_kills.py): a chunk is
committed, the worker blocks on the PPPoE accounts in the next one, and dies there. Whoever
takes the adoption over (the sweep after the lease expires, or the broker's redelivery to a
new worker) reads the router again and resumes after the committed chunks: every secret
becomes one account of one new client, as in one clean run, and nothing stays running."""

import time

import pytest
from django_scopes import scope, scopes_disabled

from clients.models import Client
from core.leases import leases_sweep
from routers.models import AdoptionStatus, PppoeAccount, RouterAdoption
from routers.selectors import foreign_secrets, router_secrets_read
from routers.services import ADOPTION_CHUNK, router_adoption_start
from routers.simulator import SimulatedRouter
from tests.factories import ROUTER_TEST_PASSWORD, RouterFactory, TenantFactory
from tests.jobs.processes import (
    LEASE,
    VISIBILITY,
    backends_gone,
    nothing_running,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = 500  # chunks of 200, 200 and 100: the worker dies in the second or the third
# The broker's redelivery of a killed worker's task, counted from its delivery: past the lease
# the worker renewed until it died a few chunks in (a redelivery that finds the lease alive
# leaves the adoption to the sweep, as in production, where the timeout is 23 minutes).
REDELIVERY = VISIBILITY + 3 * LEASE


@pytest.fixture
def sim():
    router = SimulatedRouter(identity="kill-adopt", username="admin", password=ROUTER_TEST_PASSWORD)
    router.start()
    for n in range(SECRETS):
        router.add_secret(f"kill-{n:04d}", "pw", comment=f"Killed Person {n}")
    yield router
    router.stop()


def secrets_done(job) -> int:
    with scopes_disabled():
        return RouterAdoption.objects.get(pk=job.pk).secrets_done


def adoption_blocked_after_a_chunk(tenant, sim, table_lock):
    """The adoption, queued to the worker; once a chunk is committed the PPPoE accounts are
    locked, so that the next chunk waits on them."""
    router = RouterFactory(tenant=tenant, name="Kill Edge", host=sim.host, port=sim.port)
    with scope(tenant=tenant):
        ids = [s.secret_id for s in foreign_secrets(tenant, router, router_secrets_read(router))]
        job = router_adoption_start(tenant=tenant, router=router, actor=None, secret_ids=ids)
    deadline = time.monotonic() + 120
    while secrets_done(job) < ADOPTION_CHUNK:
        assert time.monotonic() < deadline, "the first chunk was not committed in time"
        time.sleep(0.02)
    lock = table_lock(PppoeAccount._meta.db_table)
    wait_until(lock.waiters, 60, "the next chunk blocked on the PPPoE accounts")
    assert secrets_done(job) in (ADOPTION_CHUNK, 2 * ADOPTION_CHUNK)
    return job, lock


def adoption_finished(job) -> bool:
    with scopes_disabled():
        job.refresh_from_db()
    return job.status in (AdoptionStatus.DONE, AdoptionStatus.FAILED)


def assert_adopted_once(tenant, job) -> None:
    with scopes_disabled():
        job.refresh_from_db()
        assert job.status == AdoptionStatus.DONE, job.error
        assert (job.secrets_done, job.total, job.attempts) == (SECRETS, SECRETS, 2)
        assert len(job.adopted) == job.clients_created == SECRETS
        assert job.refused == [] and job.gone == 0
        accounts = PppoeAccount.objects.filter(tenant=tenant)
        assert accounts.count() == SECRETS
        assert accounts.values("router_secret_id").distinct().count() == SECRETS
        assert Client.objects.filter(tenant=tenant).count() == SECRETS
    wait_until(nothing_running, 30, "every run ends (a late redelivery finds the work done)")


def test_pool_killed_between_two_chunks_the_sweep_resumes_the_adoption(workers, table_lock, sim):
    worker = workers()
    tenant = TenantFactory()
    job, lock = adoption_blocked_after_a_chunk(tenant, sim, table_lock)
    worker.kill_pool()
    lock.release()
    wait_until(backends_gone, 30, "the killed pool process's session ends")

    def sweep_until_finished():
        # What beat's sweep does every LEASE_SWEEP_INTERVAL seconds, run here rather than
        # queued, so that no sweep is left in the queue for the next test's worker.
        with scopes_disabled():
            leases_sweep()
        return adoption_finished(job)

    wait_until(sweep_until_finished, LEASE + 60, "adoption resumed after the sweep")
    assert_adopted_once(tenant, job)


def test_worker_killed_between_two_chunks_the_next_worker_resumes_the_adoption(
    workers, table_lock, sim
):
    worker = workers(CELERY_VISIBILITY_TIMEOUT=str(REDELIVERY))
    tenant = TenantFactory()
    started_at = time.monotonic()  # the task is delivered after this: unacknowledged since
    job, lock = adoption_blocked_after_a_chunk(tenant, sim, table_lock)
    worker.kill_all()
    lock.release()
    wait_until(backends_gone, 30, "the killed worker's session ends")
    workers(CELERY_VISIBILITY_TIMEOUT=str(REDELIVERY))  # no sweep: the broker's redelivery alone
    wait_until(lambda: adoption_finished(job), REDELIVERY + 60, "adoption redelivered")
    assert time.monotonic() - started_at >= REDELIVERY - 1
    assert_adopted_once(tenant, job)

"""The rules of job leases (core/leases.py) on the two leased records, an export job and a
scheduled job's run: claim, renew, takeover of an expired lease only, fencing of the worker
that lost it, the sweep, and two claims at once on PostgreSQL (one wins)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from config.celery import app as celery_app
from core.jobs import job_run
from core.leases import (
    Lease,
    LeaseLost,
    lease_claim,
    lease_create,
    lease_fail,
    lease_finish,
    lease_renew,
    leased_models,
    leases_sweep,
)
from core.models import JobRun, JobStatus
from core.stored_text import literal_text
from exports.models import ExportJob, ExportStatus
from exports.services import export_job_execute
from holds.services import FINANCIAL_HOLDS_JOB
from subscriptions.services import EXPIRY_JOB
from tests.factories import ClientFactory, MembershipFactory, make_account
from tests.helpers import ledger_export_create


@pytest.fixture(autouse=True)
def _media_and_eager(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.JOB_LEASE_SECONDS = 60
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = False  # queued tasks go to a broker nobody reads
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def queued_export(tenant, monkeypatch, django_capture_on_commit_callbacks):
    """An export job, queued (the task it would send is recorded, not sent)."""
    sent = []
    monkeypatch.setattr("exports.services._queue", sent.append)
    operator = MembershipFactory(tenant=tenant, role="accountant")
    customer = ClientFactory(tenant=tenant)
    make_account(customer, balance="10")
    with django_capture_on_commit_callbacks(execute=True):
        job = ledger_export_create(operator.user, customer, start="2000-01-01", end="2100-01-01")
    job.sent = sent
    return job


def reload(job):
    with scopes_disabled():
        return type(job)._base_manager.get(pk=job.pk)


def expire(job, seconds=1):
    type(job)._base_manager.filter(pk=job.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=seconds)
    )


pytestmark = pytest.mark.django_db


def test_both_records_of_work_are_leased():
    assert {ExportJob, JobRun} <= set(leased_models())


def test_beat_sweeps_expired_leases_every_interval():
    entry = celery_app.conf.beat_schedule["leases-sweep"]
    assert entry["task"] == "core.tasks.leases_sweep"
    assert entry["schedule"] == settings.LEASE_SWEEP_INTERVAL == 60
    celery_app.loader.import_default_modules()  # what a worker does at start
    assert "core.tasks.leases_sweep" in celery_app.tasks


def test_visibility_timeout_is_above_twice_the_longest_task_and_well_under_an_hour():
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert timeout > 2 * settings.CELERY_TASK_TIME_LIMIT and timeout == 1380 < 3600
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    # A test run on a queue of its own redelivers only its own messages.
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["unacked_key"] == f"{queue}:unacked"


def test_claim_takes_a_queued_job_once_with_a_lease(queued_export):
    before = timezone.now()
    lease = lease_claim(ExportJob, queued_export.pk)
    assert lease == Lease(ExportJob, queued_export.pk, 1)
    job = reload(queued_export)
    assert job.status == ExportStatus.RUNNING and job.attempts == 1
    assert (
        before + timedelta(seconds=59)
        < job.lease_expires_at
        <= timezone.now() + timedelta(seconds=60)
    )
    assert lease_claim(ExportJob, queued_export.pk) is None  # live lease: left alone


def test_renew_extends_the_lease_and_records_progress(queued_export):
    lease = lease_claim(ExportJob, queued_export.pk)
    expire(queued_export, seconds=-5)  # 5 s left
    lease_renew(lease, progress=7)
    job = reload(queued_export)
    assert job.progress == 7
    assert job.lease_expires_at > timezone.now() + timedelta(seconds=50)
    assert job.heartbeat_at is not None


def test_expired_lease_is_taken_over_and_fences_the_old_worker(queued_export):
    first = lease_claim(ExportJob, queued_export.pk)
    expire(queued_export)
    second = lease_claim(ExportJob, queued_export.pk)
    assert second.attempt == 2
    with pytest.raises(LeaseLost):
        lease_renew(first, progress=99)
    assert not lease_finish(first, status=ExportStatus.DONE)
    assert not lease_fail(first, literal_text("late"))
    job = reload(queued_export)
    assert (job.status, job.progress, job.attempts) == (ExportStatus.RUNNING, 0, 2)
    assert lease_finish(second, status=ExportStatus.DONE)
    job = reload(queued_export)
    assert job.status == ExportStatus.DONE and job.lease_expires_at is None and job.finished_at


def test_finished_or_failed_work_is_never_claimed(queued_export):
    lease = lease_claim(ExportJob, queued_export.pk)
    lease_fail(lease, literal_text("Broken"))
    expire(queued_export)
    assert lease_claim(ExportJob, queued_export.pk) is None
    assert reload(queued_export).status == ExportStatus.FAILED


def test_takeover_after_the_last_attempt_fails_with_the_reason(queued_export):
    for _ in range(ExportJob.LEASE_MAX_ATTEMPTS):
        assert lease_claim(ExportJob, queued_export.pk) is not None
        expire(queued_export)
    assert lease_claim(ExportJob, queued_export.pk) is None
    job = reload(queued_export)
    assert job.status == ExportStatus.FAILED
    assert job.error == ExportJob.lease_interrupted_reason(3)
    assert "interrupted 3 times" in str(job.error) and job.lease_expires_at is None


def test_a_redelivered_task_restarts_an_expired_export_from_scratch(queued_export):
    lease_claim(ExportJob, queued_export.pk)
    ExportJob._base_manager.filter(pk=queued_export.pk).update(progress=75, total=300)
    expire(queued_export)
    with scopes_disabled():
        job = export_job_execute(job=reload(queued_export))
    assert job.status == ExportStatus.DONE, job.error
    assert (job.progress, job.total, job.attempts) == (1, 1, 2)


def test_a_redelivered_task_leaves_a_live_export_alone(queued_export):
    lease_claim(ExportJob, queued_export.pk)
    with scopes_disabled():
        job = export_job_execute(job=reload(queued_export))
    assert (job.status, job.attempts) == (ExportStatus.RUNNING, 1)


def test_sweep_requeues_an_expired_export_then_fails_it_after_the_last_attempt(
    queued_export, django_capture_on_commit_callbacks
):
    assert queued_export.sent == [queued_export]
    lease_claim(ExportJob, queued_export.pk)
    assert leases_sweep() == {}  # live lease
    expire(queued_export)
    with django_capture_on_commit_callbacks(execute=True):
        assert leases_sweep() == {"exports.exportjob:requeued": 1}
    job = reload(queued_export)
    assert (job.status, job.lease_expires_at) == (ExportStatus.QUEUED, None)
    assert [j.pk for j in queued_export.sent] == [job.pk, job.pk]
    for _ in range(2):
        lease_claim(ExportJob, job.pk)
        expire(job)
        leases_sweep()
    job = reload(job)
    assert (job.status, job.attempts) == (ExportStatus.FAILED, 3)
    assert job.error == ExportJob.lease_interrupted_reason(3)


def test_the_export_page_shows_the_failed_job_with_its_reason(client, tenant, queued_export):
    with scopes_disabled():
        client.force_login(queued_export.created_by)
    for _ in range(ExportJob.LEASE_MAX_ATTEMPTS):
        lease_claim(ExportJob, queued_export.pk)
        expire(queued_export)
        leases_sweep()
    for url in (reverse("exports:export_list"), queued_export.get_absolute_url()):
        html = client.get(url).content.decode()
        assert 'data-status="failed"' in html
        assert "The export was interrupted 3 times" in html
        assert "progress-bar-animated" not in html


def test_the_export_page_says_a_job_restarted(client, tenant, queued_export):
    with scopes_disabled():
        client.force_login(queued_export.created_by)
    lease_claim(ExportJob, queued_export.pk)
    expire(queued_export)
    lease_claim(ExportJob, queued_export.pk)
    html = client.get(queued_export.get_absolute_url()).content.decode()
    assert 'data-testid="export-restarted"' in html and "attempt 2" in html


def test_the_export_page_says_a_stalled_job_will_restart(client, tenant, queued_export):
    with scopes_disabled():
        client.force_login(queued_export.created_by)
    lease_claim(ExportJob, queued_export.pk)
    page = queued_export.get_absolute_url()
    assert 'data-testid="export-stalled"' not in client.get(page).content.decode()
    expire(queued_export)
    assert 'data-testid="export-stalled"' in client.get(page).content.decode()


def test_the_holds_dashboard_shows_the_failed_run_with_its_reason(client, tenant, owner):
    with scopes_disabled():
        dead, _ = lease_create(JobRun.objects.all(), tenant=tenant, job=FINANCIAL_HOLDS_JOB)
    expire(dead)
    leases_sweep()
    html = client.get(reverse("holds:dashboard")).content.decode()
    assert 'data-job-status="failed"' in html
    assert "The worker stopped before this run finished" in html


def test_job_run_lease_is_the_hard_time_limit(tenant, settings):
    settings.CELERY_TASK_TIME_LIMIT = 100
    with scopes_disabled():
        run, lease = lease_create(JobRun.objects.all(), tenant=tenant, job=EXPIRY_JOB)
    assert lease == Lease(JobRun, run.pk, 1)
    left = run.lease_expires_at - timezone.now()
    assert timedelta(seconds=125) < left <= timedelta(seconds=130)


def test_sweep_fails_an_expired_job_run_with_its_reason(tenant):
    with scopes_disabled():
        live, _ = lease_create(JobRun.objects.all(), tenant=tenant, job=EXPIRY_JOB)
        dead, _ = lease_create(JobRun.objects.all(), tenant=tenant, job=FINANCIAL_HOLDS_JOB)
    expire(dead)
    assert leases_sweep() == {"core.jobrun:failed": 1}
    dead, live = reload(dead), reload(live)
    assert (dead.status, dead.lease_expires_at) == (JobStatus.FAILED, None)
    assert dead.finished_at and "worker stopped" in dead.summary
    assert live.status == JobStatus.RUNNING


def test_next_run_fails_a_run_whose_worker_died_and_does_the_work(tenant):
    with scopes_disabled():
        dead, _ = lease_create(JobRun.objects.all(), tenant=tenant, job=FINANCIAL_HOLDS_JOB)
        other, _ = lease_create(JobRun.objects.all(), tenant=tenant, job=EXPIRY_JOB)
        run = job_run(tenant=tenant, job=FINANCIAL_HOLDS_JOB)
    assert run.status == JobStatus.OK and run.finished_at and run.lease_expires_at is None
    assert reload(dead).status == JobStatus.FAILED
    assert reload(dead).error == JobRun.lease_interrupted_reason(1)
    assert reload(other).status == JobStatus.RUNNING  # another job: its own lock


@pytest.mark.django_db(transaction=True)
def test_two_claims_at_once_on_postgresql_one_wins(queued_export):
    assert connection.vendor == "postgresql"
    lease_claim(ExportJob, queued_export.pk)
    for round_ in range(5):
        expire(queued_export)
        barrier = threading.Barrier(4)

        def claim(barrier=barrier):
            barrier.wait()
            try:
                return lease_claim(ExportJob, queued_export.pk)
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=4) as pool:
            leases = [f.result() for f in [pool.submit(claim) for _ in range(4)]]
        won = [lease for lease in leases if lease is not None]
        assert len(won) == 1, leases
        ExportJob._base_manager.filter(pk=queued_export.pk).update(attempts=1)
        assert won[0].attempt == 2, round_


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_a_lease_alive_while_the_work_cannot_report(settings, queued_export):
    """A phase that reports nothing for longer than the lease (a slow first query, saving a
    large file) keeps its lease: the heartbeat renews it from its own thread."""
    import time

    from core.leases import lease_heartbeat

    settings.JOB_LEASE_SECONDS = 1
    lease = lease_claim(ExportJob, queued_export.pk)
    with lease_heartbeat(lease):
        time.sleep(2.5)  # more than twice the lease, without a report
        lease_renew(lease)  # still held: no LeaseLost
    job = reload(queued_export)
    assert job.status == ExportStatus.RUNNING and job.lease_expires_at > timezone.now()
    time.sleep(1.5)  # the heartbeat stopped with the work: the lease runs out...
    assert lease_claim(ExportJob, queued_export.pk) is not None  # ...and is taken over
    with pytest.raises(LeaseLost):
        lease_renew(lease)

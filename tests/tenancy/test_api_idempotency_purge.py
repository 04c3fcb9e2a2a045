"""The hourly purge of the API's kept answers (Idempotency-Key records): older than the
setting, in batches, per tenant; run twice, by two workers at once (PostgreSQL), or killed
mid-way, it leaves the state of one run."""

from datetime import timedelta

import pytest
from django.db.models import QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from config.celery import app as celery_app
from core.jobs import job_run
from core.leases import lease_create
from core.models import JobRun, JobStatus
from tenancy import services
from tenancy.models import ApiIdempotencyRecord
from tenancy.services import API_IDEMPOTENCY_PURGE_JOB, api_idempotency_purge
from tests.factories import TenantFactory
from tests.holds.test_job_concurrency import parallel


def seed(tenant, ages_in_hours) -> None:
    now = timezone.now()
    with scopes_disabled():
        for n, age in enumerate(ages_in_hours):
            record = ApiIdempotencyRecord.objects.create(
                tenant=tenant,
                caller="token:1",
                key=f"{age}h-{n}",
                fingerprint="f",
                status=201,
                body={},
            )
            ApiIdempotencyRecord.objects.filter(pk=record.pk).update(
                created_at=now - timedelta(hours=age)
            )


def kept(tenant) -> list[str]:
    with scopes_disabled():
        return sorted(
            ApiIdempotencyRecord.objects.filter(tenant=tenant).values_list("key", flat=True)
        )


@pytest.mark.django_db
def test_purges_records_past_the_setting_in_batches_and_twice_is_once(
    tenant, other_tenant, monkeypatch, settings
):
    settings.API_IDEMPOTENCY_KEEP_HOURS = 24
    seed(tenant, [1, 23, 25, 30, 400])
    seed(other_tenant, [400])
    monkeypatch.setattr(services, "IDEMPOTENCY_PURGE_BATCH", 2)  # three batches: 2, 1, 0
    assert api_idempotency_purge(tenant=tenant) == {"deleted": 3}
    assert kept(tenant) == ["1h-0", "23h-1"]
    assert api_idempotency_purge(tenant=tenant) == {"deleted": 0}
    assert kept(tenant) == ["1h-0", "23h-1"]
    assert kept(other_tenant) == ["400h-0"]  # its own run deletes it

    settings.API_IDEMPOTENCY_KEEP_HOURS = 2
    assert api_idempotency_purge(tenant=tenant) == {"deleted": 1}
    assert kept(tenant) == ["1h-0"]


@pytest.mark.django_db
def test_runs_as_a_registered_job_fanned_out_by_beat(tenant, settings):
    seed(tenant, [48])
    run = job_run(tenant=tenant, job=API_IDEMPOTENCY_PURGE_JOB)
    assert run.status == JobStatus.OK and run.result == {"deleted": 1}
    assert kept(tenant) == []
    schedule = celery_app.conf.beat_schedule["api-idempotency-purge"]
    assert schedule["task"] == "tenancy.tasks.api_idempotency_purge_run_all"
    assert schedule["schedule"] <= 3600


@pytest.mark.django_db
def test_killed_mid_way_the_next_run_finishes_the_work(tenant, monkeypatch):
    seed(tenant, [30, 31, 32, 33, 34])
    monkeypatch.setattr(services, "IDEMPOTENCY_PURGE_BATCH", 2)
    real_delete = QuerySet.delete
    deletes = []

    def dies_on_the_second_batch(queryset):
        if queryset.model is ApiIdempotencyRecord:
            deletes.append(queryset)
            if len(deletes) == 2:
                raise RuntimeError("worker stopped")
        return real_delete(queryset)

    monkeypatch.setattr(QuerySet, "delete", dies_on_the_second_batch)
    failed = job_run(tenant=tenant, job=API_IDEMPOTENCY_PURGE_JOB)
    assert failed.status == JobStatus.FAILED and "worker stopped" in str(failed.error)
    assert len(kept(tenant)) == 3  # the first batch's transaction committed, the second none
    monkeypatch.setattr(QuerySet, "delete", real_delete)

    # A run whose worker died without a word (its lease left running) is failed by the next.
    with scopes_disabled():
        dead, _ = lease_create(JobRun.objects.all(), tenant=tenant, job=API_IDEMPOTENCY_PURGE_JOB)
    run = job_run(tenant=tenant, job=API_IDEMPOTENCY_PURGE_JOB)
    assert run.status == JobStatus.OK and run.result == {"deleted": 3}
    with scopes_disabled():
        assert JobRun.objects.get(pk=dead.pk).status == JobStatus.FAILED
    assert kept(tenant) == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_delete_each_record_once(monkeypatch):
    tenant = TenantFactory()
    seed(tenant, [25 + n for n in range(40)] + [1, 2])
    monkeypatch.setattr(services, "IDEMPOTENCY_PURGE_BATCH", 3)
    results = parallel(*[lambda: api_idempotency_purge(tenant=tenant)] * 3)
    assert sum(result["deleted"] for result in results) == 40
    assert kept(tenant) == ["1h-40", "2h-41"]
    assert api_idempotency_purge(tenant=tenant) == {"deleted": 0}

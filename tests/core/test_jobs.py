"""The one job-run module: each app registers its jobs, `job_run` records a run (its figures,
or the failure), skips while another worker holds the job's lock, and the dashboard lists the
jobs that apply to the tenant."""

import pytest
from django_scopes import scopes_disabled

from core.jobs import job_get, job_lock, job_run, job_runs_last, jobs_registered
from core.models import JobRun, JobStatus
from messaging import tasks as messaging_tasks

pytestmark = pytest.mark.django_db


def test_each_app_registers_its_jobs():
    names = {job.name for job in jobs_registered()}
    assert {"financial_holds", "expiry", "messaging_rollups", "messaging_charges"} <= names
    with pytest.raises(ValueError):
        job_get("no such job")


def test_messaging_jobs_are_recorded_runs(tenant):
    assert messaging_tasks.messaging_rollups_refresh(tenant.pk) == 0
    assert messaging_tasks.messaging_charges_post_for_tenant(tenant.pk) == 0
    with scopes_disabled():
        runs = dict(JobRun.objects.filter(tenant=tenant).values_list("job", "status"))
    assert runs == {"messaging_rollups": JobStatus.OK, "messaging_charges": JobStatus.OK}


@pytest.mark.django_db(transaction=True)
def test_a_run_is_skipped_while_another_holds_the_lock(tenant):
    """The same session may take a lock twice on PostgreSQL, so the holder is another
    connection's: the job's lock, as a second worker would hold it."""
    import threading

    from django.db import connection

    taken, release = threading.Event(), threading.Event()

    def hold():
        try:
            with job_lock("expiry", tenant.pk) as held:
                assert held
                taken.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(10)
    try:
        with scopes_disabled():
            assert job_run(tenant=tenant, job="expiry") is None
            assert not JobRun.objects.exists()
    finally:
        release.set()
        holder.join()
    with scopes_disabled():
        assert job_run(tenant=tenant, job="expiry").status == JobStatus.OK


def test_dashboard_lists_the_jobs_of_the_tenant(tenant, other_tenant):
    other_tenant.uses_messaging = False
    with scopes_disabled():
        mine = [item["job"] for item in job_runs_last(tenant)]
        theirs = [item["job"] for item in job_runs_last(other_tenant)]
    assert "messaging_charges" in mine and "messaging_charges" not in theirs
    assert {"financial_holds", "expiry"} <= set(theirs)

"""Celery entry points of events, on the project's task base (core/tasks.py). Beat's
schedule is in config/celery.py."""

from core.jobs import job_run_result
from core.tasks import project_task, tenant_task, tenants_fan_out

from .services import EVENTS_PRUNE_JOB


@tenant_task()
def events_prune_run(tenant) -> dict | None:
    return job_run_result(tenant=tenant, job=EVENTS_PRUNE_JOB)


@project_task
def events_prune_run_all() -> int:
    """Beat: one run per active tenant."""
    return tenants_fan_out(events_prune_run)

"""Celery entry points of subscriptions: thin, on the project's task base (core/tasks.py).
Beat's schedule is in config/celery.py."""

from core.jobs import job_run_result
from core.tasks import project_task, tenant_task, tenants_fan_out

from .services import EXPIRY_JOB


@tenant_task()
def expiry_run(tenant) -> dict | None:
    result = job_run_result(tenant=tenant, job=EXPIRY_JOB)
    if result and result.get("renewals_deferred"):
        expiry_run.delay(tenant.pk)  # out of time with renewals left: go on at once
    return result


@project_task
def expiry_run_all() -> int:
    """Beat: one run per active tenant."""
    return tenants_fan_out(expiry_run)

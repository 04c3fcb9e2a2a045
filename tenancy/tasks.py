"""Celery entry points of tenancy, on the project's task base (core/tasks.py). Beat's schedule
is in config/celery.py."""

from core.jobs import job_run_result
from core.tasks import project_task, tenant_task, tenants_fan_out

from .services import API_IDEMPOTENCY_PURGE_JOB


@tenant_task()
def api_idempotency_purge_run(tenant) -> dict | None:
    return job_run_result(tenant=tenant, job=API_IDEMPOTENCY_PURGE_JOB)


@project_task
def api_idempotency_purge_run_all() -> int:
    """Beat: one run per active tenant."""
    return tenants_fan_out(api_idempotency_purge_run)

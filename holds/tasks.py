"""Celery entry points of holds: thin (ids in, reload, return if gone, call a service), on the
project's task base (core/tasks.py). Beat's schedule is in config/celery.py."""

from core.jobs import job_run_result
from core.tasks import project_task, tenant_task, tenants_fan_out


@tenant_task()
def financial_holds_run(tenant) -> dict | None:
    from .services import FINANCIAL_HOLDS_JOB  # the services queue these tasks: a circle

    return job_run_result(tenant=tenant, job=FINANCIAL_HOLDS_JOB)


@project_task
def financial_holds_run_all() -> int:
    """Beat: one run per active tenant."""
    return tenants_fan_out(financial_holds_run)


@tenant_task(gone=0, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def notifications_send(tenant, ids: list[int]) -> int:
    from .notifications import notifications_send as send  # the task bears its name

    return send(tenant=tenant, ids=ids)

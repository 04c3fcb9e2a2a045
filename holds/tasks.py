"""Celery entry points of holds: thin (ids in, reload, return if gone, call a service), on the
project's task base (core/tasks.py). Beat's schedule is in config/celery.py."""

from clients.tasks import client_access_fanout
from core.jobs import job_run_result
from core.tasks import project_task, tenant_task, tenants_fan_out
from subscriptions.tasks import expiry_run, expiry_run_all


@tenant_task()
def financial_holds_run(tenant) -> dict | None:
    from .services import FINANCIAL_HOLDS_JOB  # the services queue these tasks: a circle

    return job_run_result(tenant=tenant, job=FINANCIAL_HOLDS_JOB)


@project_task
def financial_holds_run_all() -> int:
    """Beat: one run per active tenant."""
    return tenants_fan_out(financial_holds_run)


# -- names of tasks that moved to clients and subscriptions, kept for one release: messages
# queued before an upgrade still run, passed on to the task that does the work now ----------
@project_task(name="holds.tasks.client_access_fanout")
def moved_client_access_fanout(tenant_id: int, client_ids: list[int], access: bool, reason: str):
    client_access_fanout.delay(tenant_id, client_ids, access, reason, "holds")


@project_task(name="holds.tasks.expiry_run")
def moved_expiry_run(tenant_id: int):
    expiry_run.delay(tenant_id)


@project_task(name="holds.tasks.expiry_run_all")
def moved_expiry_run_all():
    expiry_run_all.delay()

"""Celery entry points of messaging: thin (ids in, reload, return if gone, call a service), on
the project's task base (core/tasks.py).

Beat (config/celery.py) runs `messaging_rollups_refresh_all` every few minutes and
`messaging_charges_post_all` every hour; each fans out one task per messaging tenant, which
runs the registered job (core/jobs.py: one run per tenant at a time, recorded). Both are
idempotent: a second run at once finds the job's lock taken, or the charge rows settled.
"""

from core.jobs import job_run_result
from core.tasks import project_task, tenant_task, tenants_fan_out

from .services import CHARGES_JOB, ROLLUPS_JOB

SOFT_LIMIT = 540
MESSAGING_TENANTS = {"uses_messaging": True}


@tenant_task(tenants=MESSAGING_TENANTS, soft_time_limit=SOFT_LIMIT)
def messaging_rollups_refresh(tenant) -> int | None:
    """The client days rebuilt (None when another run was under way)."""
    result = job_run_result(tenant=tenant, job=ROLLUPS_JOB)
    return None if result is None else result.get("days")


@tenant_task(tenants=MESSAGING_TENANTS, soft_time_limit=SOFT_LIMIT)
def messaging_charges_post_for_tenant(tenant) -> int | None:
    """The postings made (None when another run was under way)."""
    result = job_run_result(tenant=tenant, job=CHARGES_JOB)
    if result is None:
        return None
    return result.get("charged", 0) + result.get("corrections", 0)


@project_task(soft_time_limit=60)
def messaging_rollups_refresh_all() -> int:
    return tenants_fan_out(messaging_rollups_refresh, **MESSAGING_TENANTS)


@project_task(soft_time_limit=60)
def messaging_charges_post_all() -> int:
    return tenants_fan_out(messaging_charges_post_for_tenant, **MESSAGING_TENANTS)

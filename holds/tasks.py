"""Celery entry points of holds and expiry: thin (ids in, reload, return if gone, call a
service). Beat's schedule is in config/celery.py."""

from celery import shared_task
from django_scopes import scope

from core.formatting import tenant_formatting
from tenancy.models import Tenant

from .models import JobName


def _tenant(tenant_id: int):
    return Tenant.objects.filter(pk=tenant_id, is_active=True).first()


def _run(job: str, tenant_id: int) -> dict | None:
    from .services import job_run

    tenant = _tenant(tenant_id)
    if tenant is None:
        return None
    with scope(tenant=tenant), tenant_formatting(tenant):
        run = job_run(tenant=tenant, job=job)
    return None if run is None else {"status": run.status, **run.result}


@shared_task(acks_late=True)
def financial_holds_run(tenant_id: int) -> dict | None:
    return _run(JobName.FINANCIAL_HOLDS, tenant_id)


@shared_task(acks_late=True)
def expiry_run(tenant_id: int) -> dict | None:
    result = _run(JobName.EXPIRY, tenant_id)
    if result and result.get("renewals_deferred"):
        expiry_run.delay(tenant_id)  # out of time with renewals left: go on at once
    return result


def _per_active_tenant(task) -> int:
    """Beat: one task per active tenant."""
    ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in ids:
        task.delay(tenant_id)
    return len(ids)


@shared_task(acks_late=True)
def financial_holds_run_all() -> int:
    return _per_active_tenant(financial_holds_run)


@shared_task(acks_late=True)
def expiry_run_all() -> int:
    return _per_active_tenant(expiry_run)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def notifications_send(tenant_id: int, ids: list[int]) -> int:
    from .notifications import notifications_send as send

    tenant = _tenant(tenant_id)
    if tenant is None:
        return 0
    with scope(tenant=tenant), tenant_formatting(tenant):
        return send(tenant=tenant, ids=ids)


@shared_task(acks_late=True)
def client_access_fanout(tenant_id: int, client_ids: list[int], access: bool, reason: str) -> int:
    from .services import access_changed_send

    tenant = _tenant(tenant_id)
    if tenant is None:
        return 0
    with scope(tenant=tenant), tenant_formatting(tenant):
        return access_changed_send(
            tenant=tenant, client_ids=client_ids, access=access, reason=reason
        )

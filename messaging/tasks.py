"""Celery entry points of messaging: thin (ids in, reload, return if gone, call a service).

Beat (config/celery.py) runs `messaging_rollups_refresh_all` every few minutes and
`messaging_charges_post_all` every hour; each fans out one task per messaging tenant. Both are
idempotent: a second run at once finds the advisory lock taken (rollups) or the charge rows
settled (charges) and does nothing.
"""

from celery import shared_task
from django_scopes import scope

from core.formatting import tenant_formatting
from tenancy.models import Tenant

from .services import messaging_charges_post, rollups_refresh

SOFT_LIMIT = 540


def _messaging_tenant(tenant_id: int) -> Tenant | None:
    return Tenant.objects.filter(pk=tenant_id, uses_messaging=True, is_active=True).first()


@shared_task(acks_late=True, soft_time_limit=SOFT_LIMIT)
def messaging_rollups_refresh(tenant_id: int) -> int | None:
    tenant = _messaging_tenant(tenant_id)
    if tenant is None:
        return None
    with scope(tenant=tenant), tenant_formatting(tenant):
        return rollups_refresh(tenant=tenant).days


@shared_task(acks_late=True, soft_time_limit=SOFT_LIMIT)
def messaging_charges_post_for_tenant(tenant_id: int) -> int | None:
    tenant = _messaging_tenant(tenant_id)
    if tenant is None:
        return None
    with scope(tenant=tenant), tenant_formatting(tenant):
        result = messaging_charges_post(tenant=tenant)
        return result.charged + result.corrections


def _messaging_tenant_ids() -> list[int]:
    return list(
        Tenant.objects.filter(uses_messaging=True, is_active=True).values_list("pk", flat=True)
    )


@shared_task(soft_time_limit=60)
def messaging_rollups_refresh_all() -> int:
    ids = _messaging_tenant_ids()
    for tenant_id in ids:
        messaging_rollups_refresh.delay(tenant_id)
    return len(ids)


@shared_task(soft_time_limit=60)
def messaging_charges_post_all() -> int:
    ids = _messaging_tenant_ids()
    for tenant_id in ids:
        messaging_charges_post_for_tenant.delay(tenant_id)
    return len(ids)

"""Celery entry points of billing: thin (ids in, reload, return if gone, call a service)."""

from celery import shared_task
from django_scopes import scope

from core.formatting import tenant_formatting
from tenancy.models import Tenant

from .models import CreditLimitChange
from .services import credit_limit_change_send_notice


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def credit_limit_change_notify(change_id: int, *, tenant_id: int) -> bool:
    """E-mail the client about a credit-limit change. Sends once: the service marks the change
    notified in the same transaction, and a second run finds it marked."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return False
    with scope(tenant=tenant), tenant_formatting(tenant):
        change = CreditLimitChange.objects.for_tenant(tenant).filter(pk=change_id).first()
        if change is None:
            return False
        return credit_limit_change_send_notice(change=change)

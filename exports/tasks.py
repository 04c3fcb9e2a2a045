"""Celery entry points of exports: thin (ids in, reload, return if gone, call a service)."""

from celery import shared_task
from django_scopes import scope

from core.formatting import tenant_formatting
from tenancy.models import Tenant

from .models import ExportJob
from .services import export_job_execute


@shared_task(acks_late=True)
def export_job_run(job_id: int, *, tenant_id: int) -> str | None:
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return None
    with scope(tenant=tenant), tenant_formatting(tenant):
        job = ExportJob.objects.for_tenant(tenant).filter(pk=job_id).first()
        if job is None:
            return None
        return export_job_execute(job=job).status


@shared_task(acks_late=True)
def export_jobs_purge_expired() -> int:
    """Beat: delete export jobs and files older than the retention (a week)."""
    from .services import export_jobs_purge

    return export_jobs_purge()

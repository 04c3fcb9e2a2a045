from tenancy.roles import Role

from .models import ExportJob


def export_jobs_visible_to(request):
    """An operator sees their own export jobs; an owner sees every job of the tenant."""
    jobs = ExportJob.objects.for_tenant(request.tenant)
    if request.membership.role != Role.OWNER:
        jobs = jobs.filter(created_by=request.user)
    return jobs

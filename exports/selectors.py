from tenancy.models import ApiTokenScope
from tenancy.roles import Role

from .models import ExportJob


def export_jobs_visible_to(request):
    """An operator sees their own export jobs, an API token the jobs it started; an owner (or
    an owner's token) sees every job of the tenant."""
    jobs = ExportJob.objects.for_tenant(request.tenant)
    token = getattr(request, "api_token", None)
    if token is not None:
        return jobs if token.scope == ApiTokenScope.OWNER else jobs.filter(api_token=token)
    if request.membership.role != Role.OWNER:
        jobs = jobs.filter(created_by=request.user)
    return jobs

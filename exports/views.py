from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from tenancy.lists import list_view_table
from tenancy.mixins import FilteredTableView, TenantRequiredMixin
from tenancy.roles import Capability

from .filters import ExportJobFilterSet
from .lists import LIST_EXPORT_KIND, list_export_parameters, list_export_title
from .models import ExportJob, ExportStatus
from .selectors import export_jobs_visible_to
from .services import export_job_create
from .tables import ExportJobTable


def export_started_response(request, job):
    """The answer to a page's export button once its job is queued: with HTMX the job's
    progress bar in place; without, the Exports page, which shows it."""
    if getattr(request, "htmx", None):
        return render(
            request, "exports/includes/job_progress.html", {"job": job, "auto_download": True}
        )
    messages.success(request, _("The export has started; it will be ready for download here."))
    return redirect("exports:export_list")


class ExportJobListView(FilteredTableView):
    """The operator's export jobs (an owner's: everyone's), newest first, with progress bars
    that poll while a job runs and a download link when it is done."""

    model = ExportJob
    table_class = ExportJobTable
    filterset_class = ExportJobFilterSet
    template_name = "exports/export_list.html"
    required_capability = Capability.EXPORT

    def get_queryset(self):
        return export_jobs_visible_to(self.request)


class ExportJobDetailView(TenantRequiredMixin, TemplateView):
    """One job's progress: the whole page, or for HTMX polling only the progress fragment
    (which stops polling once the job is done or failed)."""

    required_capability = Capability.EXPORT
    template_name = "exports/export_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = get_object_or_404(export_jobs_visible_to(self.request), pk=kwargs["pk"])
        context["job"] = job
        # Polled by the page that started it: the file downloads by itself once it is ready,
        # for the operator who asked (an owner watching the Exports page gets no one else's).
        context["auto_download"] = bool(self.request.htmx) and job.created_by_id == (
            self.request.user.pk
        )
        return context

    def get_template_names(self):
        if getattr(self.request, "htmx", None):
            return ["exports/includes/job_progress.html"]
        return [self.template_name]

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        patch_vary_headers(response, ["HX-Request"])
        response["Cache-Control"] = "no-store"
        return response


class ExportJobDownloadView(TenantRequiredMixin, View):
    """The file of a finished job. Another tenant's job, or another operator's job for anyone
    but an owner, is a 404."""

    required_capability = Capability.EXPORT

    def get(self, request, pk):
        return export_file_response(get_object_or_404(export_jobs_visible_to(request), pk=pk))


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_file_response(job):
    """The .xlsx of a finished job as an attachment (the Exports page and the API); a 404
    while it runs, after it failed, or once its file was purged."""
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404(_("This export has no file yet."))
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The file of this export is no longer available.")) from exc
    filename = job.file.name.rsplit("/", 1)[-1].split("-", 1)[-1]
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )
    response["Cache-Control"] = "private, no-store"
    return response


class ListExportView(TenantRequiredMixin, View):
    """The list toolbar's Export .xlsx: queue the export of the list the form was sent from,
    with its filter and sort (`list_query`) and the columns it shows now. A list this operator
    may not see is refused as the page would refuse it (404 or 403)."""

    required_capability = Capability.EXPORT
    http_method_names = ["post"]

    def post(self, request):
        path = request.POST.get("list_path", "")
        query = request.POST.get("list_query", "")
        table = list_view_table(
            path=path,
            query=query,
            user=request.user,
            tenant=request.tenant,
            membership=request.membership,
        ).table
        token = (request.POST.get("token") or "").strip()[:60]
        job = export_job_create(
            tenant=request.tenant,
            actor=request.user,
            kind=LIST_EXPORT_KIND,
            parameters=list_export_parameters(path=path, query=query, table=table),
            title=list_export_title(table),
            idempotency_key=f"list-export:{token}" if token else None,
        )
        return export_started_response(request, job)

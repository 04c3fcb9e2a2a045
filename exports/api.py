"""Export jobs over the JSON API: the jobs a caller may see (as on the Exports page: an
operator's or token's own, an owner's every one), one job's status and progress, and its .xlsx
once done.

An export is started where the portal starts it, beside the rows it holds: the ledger under
`/clients/{number}/ledger/export/`, statistics under `/clients/{number}/statistics/export/`,
each answering the queued job (202). The same kinds, parameters and worker as the portal's.
"""

from datetime import datetime
from typing import Annotated

from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Path, Query, Router, Schema

from core.api import Answer, SortKey, page_body, valid_filters
from tenancy.api import api_operation
from tenancy.roles import Capability

from .filters import ExportJobFilterSet
from .models import ExportJob, ExportStatus
from .selectors import export_jobs_visible_to
from .views import XLSX_CONTENT_TYPE, export_file_response

router = Router()

JobNumber = Annotated[int, Path(ge=1, le=2**63 - 1, description="The export job's id.")]
NEWEST_FIRST = (SortKey("created_at", True), SortKey("id", True))
PAGE_DEFAULT = 20
PAGE_MAX = 100


class ExportJobOut(Answer):
    id: int
    kind: str = Field(description="billing.ledger or messaging.statistics.")
    title: str
    status: ExportStatus
    progress: int = Field(description="Rows written so far.")
    total: int | None = Field(description="Rows to write, once known.")
    percent: int
    error: str = Field(description="Why it failed, for a failed job.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    download: str | None = Field(description="The file's URL once done.")


class ExportJobPage(Answer):
    items: list[ExportJobOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class ExportJobListQuery(Schema):
    status: ExportStatus | None = None
    kind: str | None = Field(None, max_length=60)
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)


def export_job_out(job: ExportJob) -> ExportJobOut:
    done = job.status == ExportStatus.DONE and bool(job.file)
    return ExportJobOut(
        id=job.pk,
        kind=job.kind,
        title=job.heading,
        status=job.status,
        progress=job.progress,
        total=job.total,
        percent=job.percent,
        error=str(job.error),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        download=reverse("api:export_job_download", kwargs={"job_id": job.pk}) if done else None,
    )


@api_operation(router, "GET", "", capability=Capability.EXPORT, response=ExportJobPage)
def export_job_list(request, query: Query[ExportJobListQuery]):
    """The caller's export jobs, newest first, as on the Exports page."""
    jobs = export_jobs_visible_to(request)
    filterset = valid_filters(ExportJobFilterSet(request.GET, queryset=jobs, request=request))
    return page_body(filterset.qs, query, keys=NEWEST_FIRST, sort="-created_at", row=export_job_out)


@api_operation(router, "GET", "{job_id}/", capability=Capability.EXPORT, response=ExportJobOut)
def export_job_read(request, job_id: JobNumber):
    """Status and progress; `download` is set once the file is ready."""
    return export_job_out(get_object_or_404(export_jobs_visible_to(request), pk=job_id))


@api_operation(
    router,
    "GET",
    "{job_id}/download/",
    capability=Capability.EXPORT,
    url_name="export_job_download",
    openapi={
        "responses": {
            200: {
                "description": "The .xlsx file.",
                "content": {XLSX_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def export_job_download(request, job_id: JobNumber):
    """The .xlsx of a finished job; a 404 while it runs or after it failed."""
    return export_file_response(get_object_or_404(export_jobs_visible_to(request), pk=job_id))

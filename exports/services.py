"""Creating and running export jobs.

`export_job_create` records the job and queues the Celery task once the transaction commits.
`export_job_execute` is what the task calls: it claims the job under a lease (queued -> running,
one worker only; or takes over a job whose worker stopped and whose lease expired), asks the
job's kind for its rows, streams them into an .xlsx in a temporary file with `XlsxStreamWriter`,
updating `progress` and renewing the lease every `progress_every` rows in one small UPDATE (so
the page's polling sees it), then stores the file and marks the job done, or failed with a
message an operator can read. A job whose worker died is queued again by beat's sweep
(`export_job_recover`) and restarts from the first row, or fails with its reason after
LEASE_MAX_ATTEMPTS interruptions.
"""

import logging
import tempfile
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from core.leases import (
    Lease,
    LeaseLost,
    lease_claim,
    lease_finish,
    lease_renew,
    lease_requeue_or_fail,
    lease_worked,
)
from core.stored_text import (
    EMPTY_TEXT,
    StoredText,
    label_text,
    stored_gettext,
    stored_text_required,
)
from tenancy.models import Tenant

from .models import ExportJob, ExportStatus
from .registry import ExportGone, get_export_kind
from .xlsx import MAX_DATA_ROWS_PER_SHEET, XlsxStreamWriter

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 5000


def export_job_create(
    *,
    tenant: Tenant,
    actor,
    kind: str,
    parameters: dict,
    title: StoredText | None = None,
    idempotency_key: str | None = None,
    api_token=None,
) -> ExportJob:
    """Record an export job and queue it after commit. A repeated idempotency key (a double
    click) returns the job queued the first time. `api_token`: the token that asked, when it
    came over the API (`actor` is then None). `title` is stored text, so that the Exports
    page reads it in each colleague's language (the kind's label when none is given)."""
    export_kind = get_export_kind(kind)
    if export_kind is None:
        raise ValueError(f"Unknown export kind {kind!r}")
    if title is None:
        title = label_text(export_kind.label)
    stored_text_required(title, what="An export's title")
    jobs = ExportJob.objects.for_tenant(tenant)
    with transaction.atomic():
        if idempotency_key:
            existing = jobs.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        job = jobs.create(
            tenant=tenant,
            created_by=actor,
            api_token=api_token,
            kind=kind,
            title=title,
            parameters=parameters,
            idempotency_key=idempotency_key,
        )
        transaction.on_commit(lambda: _queue(job))
    return job


def _queue(job: ExportJob) -> None:
    from .tasks import export_job_run  # the task calls these services: a circle

    export_job_run.delay(job.pk, tenant_id=job.tenant_id)


def export_job_claim(*, job: ExportJob) -> Lease | None:
    """Claim a queued job, or take over one whose worker stopped (its lease expired), for
    this worker only; it restarts from the first row. None when the job is finished or a
    live worker holds it."""
    now = timezone.now()
    return lease_claim(ExportJob, job.pk, now=now, started_at=now, progress=0, error=EMPTY_TEXT)


def export_job_recover(*, job: ExportJob, lease: Lease, now) -> str:
    """The sweep found the job's lease expired: queue it again (it restarts from the first row)."""
    return lease_requeue_or_fail(lease, now, queue=lambda: _queue(job))


# What an export that stops on an error tells the operator, by the error.
EXPORT_REASONS = (
    (
        SoftTimeLimitExceeded,
        lambda _error: stored_gettext(
            "The export took too long. Choose a shorter period and try again."
        ),
    ),
)


def export_job_execute(
    *,
    job: ExportJob,
    progress_every: int = PROGRESS_EVERY,
    rows_per_sheet: int = MAX_DATA_ROWS_PER_SHEET,
) -> ExportJob:
    lease = export_job_claim(job=job)
    if lease is None:
        job.refresh_from_db()
        logger.info(
            "Export job %s is %s (lease until %s); left to its worker",
            job.pk,
            job.status,
            job.lease_expires_at,
        )
        return job
    failed = stored_gettext(
        "The export failed. Please try again; if it fails again, contact support."
    )
    with lease_worked(lease, label=f"Export job {job.pk}", failed=failed, reasons=EXPORT_REASONS):
        _write(job, lease, progress_every=progress_every, rows_per_sheet=rows_per_sheet)
    job.refresh_from_db()
    return job


def _write(job: ExportJob, lease: Lease, *, progress_every: int, rows_per_sheet: int) -> None:
    """Stream the rows into a temporary file, renewing the lease at each progress report (and
    from the heartbeat between them), then store the file and mark the job done (only while
    this worker still holds it)."""
    tenant = job.tenant
    export_kind = get_export_kind(job.kind)
    if export_kind is None:
        raise ExportGone(
            stored_gettext("This kind of export (%(kind)s) is no longer available.", kind=job.kind)
        )
    spec = export_kind.build(job)
    lease_renew(lease, total=spec.total)

    def report(rows: int) -> None:
        lease_renew(lease, progress=rows)

    with tempfile.TemporaryFile(suffix=".xlsx") as handle:
        writer = XlsxStreamWriter(
            handle,
            columns=spec.columns,
            title=spec.sheet_title,
            currency=tenant.currency,
            time_zone=tenant.zone,
            rows_per_sheet=rows_per_sheet,
        )
        if spec.sheets:
            for sheet in spec.sheets:
                writer.start_sheet(sheet.title, sheet.columns)
                written = writer.write_rows(
                    sheet.rows, on_progress=report, progress_every=progress_every
                )
        else:
            written = writer.write_rows(
                spec.rows, on_progress=report, progress_every=progress_every
            )
        writer.close()
        handle.seek(0)
        job.file.save(spec.filename, File(handle, name=spec.filename), save=False)
    done = lease_finish(
        lease,
        status=ExportStatus.DONE,
        file=job.file.name,
        progress=written,
        total=written,
        error=EMPTY_TEXT,
    )
    if not done:
        job.file.delete(save=False)
        raise LeaseLost(f"ExportJob {job.pk}")


EXPORT_RETENTION = timedelta(days=7)


def export_jobs_purge(*, older_than: timedelta = EXPORT_RETENTION) -> int:
    """Delete finished and failed jobs older than `older_than`, with their files (an export of
    a million rows is tens of megabytes). Runs across tenants, in sets; idempotent: a second
    run finds nothing. Returns the number of jobs deleted."""
    from django_scopes import scopes_disabled

    cutoff = timezone.now() - older_than
    deleted = 0
    with scopes_disabled():
        expired = ExportJob.objects.filter(
            status__in=[ExportStatus.DONE, ExportStatus.FAILED], created_at__lt=cutoff
        )
        while True:
            batch = list(expired.order_by("pk").values_list("pk", "file")[:500])
            if not batch:
                return deleted
            for _, name in batch:
                if name:
                    ExportJob._meta.get_field("file").storage.delete(name)
            deleted += ExportJob.objects.filter(pk__in=[pk for pk, _ in batch]).delete()[0]

"""Creating and running export jobs.

`export_job_create` records the job and queues the Celery task once the transaction commits.
`export_job_execute` is what the task calls: it claims the job (queued -> running, one worker
only), asks the job's kind for its rows, streams them into an .xlsx in a temporary file with
`XlsxStreamWriter`, updating `progress` every `progress_every` rows in its own small UPDATE
(so the page's polling sees it), then stores the file and marks the job done, or failed with a
message an operator can read.
"""

import logging
import tempfile
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

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
    title: str = "",
    idempotency_key: str | None = None,
) -> ExportJob:
    """Record an export job and queue it after commit. A repeated idempotency key (a double
    click) returns the job queued the first time."""
    export_kind = get_export_kind(kind)
    if export_kind is None:
        raise ValueError(f"Unknown export kind {kind!r}")
    jobs = ExportJob.objects.for_tenant(tenant)
    with transaction.atomic():
        if idempotency_key:
            existing = jobs.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        job = jobs.create(
            tenant=tenant,
            created_by=actor,
            kind=kind,
            title=(title or export_kind.label)[:255],
            parameters=parameters,
            idempotency_key=idempotency_key,
        )
        transaction.on_commit(lambda: _queue(job))
    return job


def _queue(job: ExportJob) -> None:
    from .tasks import export_job_run

    export_job_run.delay(job.pk, tenant_id=job.tenant_id)


def stale_after() -> timedelta:
    """A running job older than the hard time limit lost its worker: it may be claimed again."""
    return timedelta(seconds=getattr(settings, "CELERY_TASK_TIME_LIMIT", 660) + 60)


def export_job_claim(*, job: ExportJob) -> bool:
    """queued -> running, for one worker only (a conditional UPDATE)."""
    now = timezone.now()
    jobs = ExportJob.objects.for_tenant(job.tenant).filter(pk=job.pk)
    claimed = jobs.filter(status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, started_at=now, progress=0
    ) or jobs.filter(status=ExportStatus.RUNNING, started_at__lt=now - stale_after()).update(
        started_at=now, progress=0
    )
    return bool(claimed)


def _fail(job: ExportJob, message: str) -> None:
    ExportJob.objects.for_tenant(job.tenant).filter(pk=job.pk).update(
        status=ExportStatus.FAILED, error=message, finished_at=timezone.now()
    )


def export_job_execute(
    *,
    job: ExportJob,
    progress_every: int = PROGRESS_EVERY,
    rows_per_sheet: int = MAX_DATA_ROWS_PER_SHEET,
) -> ExportJob:
    if not export_job_claim(job=job):
        logger.info("Export job %s is not queued (status %s); skipping", job.pk, job.status)
        return job
    tenant = job.tenant
    jobs = ExportJob.objects.for_tenant(tenant).filter(pk=job.pk)
    export_kind = get_export_kind(job.kind)
    try:
        if export_kind is None:
            raise ExportGone(f"This kind of export ({job.kind}) is no longer available.")
        spec = export_kind.build(job)
        if spec.total is not None:
            jobs.update(total=spec.total)

        def report(rows: int) -> None:
            jobs.update(progress=rows)

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
        jobs.update(
            status=ExportStatus.DONE,
            file=job.file.name,
            progress=written,
            total=written,
            error="",
            finished_at=timezone.now(),
        )
    except SoftTimeLimitExceeded:
        logger.warning("Export job %s hit the time limit", job.pk)
        _fail(job, "The export took too long. Choose a shorter period and try again.")
    except ExportGone as exc:
        _fail(job, str(exc))
    except Exception:
        logger.exception("Export job %s failed", job.pk)
        _fail(job, "The export failed. Please try again; if it fails again, contact support.")
    job.refresh_from_db()
    return job


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

"""Celery entry points of exports: thin (ids in, reload, return if gone, call a service), on
the project's task base (core/tasks.py)."""

from core.tasks import project_task, tenant_task


@tenant_task(model="exports.ExportJob")
def export_job_run(job) -> str | None:
    from .services import export_job_execute  # the services queue this task: a circle

    return export_job_execute(job=job).status


@project_task
def export_jobs_purge_expired() -> int:
    """Beat: delete export jobs and files older than the retention (a week)."""
    from .services import export_jobs_purge  # the services queue the job task: a circle

    return export_jobs_purge()

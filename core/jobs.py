"""Scheduled per-tenant jobs: the registry, and the one way to run one.

Each app registers its jobs in its AppConfig.ready() (`job_register`: a name, the label the
dashboard shows, the service function, the figures of its result an operator reads), so that
core knows no app. `job_run` runs a registered job for one tenant:

- one run per job and tenant at a time: the job's advisory lock (core/locks.py, namespace
  "jobs.<name>"); a second worker records nothing and returns None;
- the run is a `JobRun` (core/models.py) with its start, end, status, result and error, under
  a lease (core/leases.py) that lasts the hard time limit;
- a run left `running` by a worker that died is failed with its reason when the next run
  starts (it holds the lock, so that worker is gone), or by beat's lease sweep;
- a failure is recorded with the exception's class and first line, for the operator, and
  logged with its traceback, not raised: the next run retries;
- runs older than JOB_RUNS_KEPT are deleted by the next run of the job.

A service that must also run outside the job (e.g. a rollup refresh after an import) and
must never overlap a run takes the same lock with `job_lock`.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from .formatting import tenant_formatting
from .leases import lease_create, lease_fail, lease_finish, leases_fail_running
from .locks import advisory_lock, lock_namespace
from .stored_text import StoredText, stored_gettext

logger = logging.getLogger(__name__)

JOB_RUNS_KEPT = timedelta(days=30)


@dataclass(frozen=True)
class Job:
    """A registered job. `run(tenant=, now=)` returns the run's figures (JSON)."""

    name: str
    label: str
    run: Callable[..., dict]
    result_labels: dict[str, str] = field(default_factory=dict)
    applies: Callable[..., bool] = lambda tenant: True  # noqa: E731 - a default predicate
    lock: int = 0


_JOBS: dict[str, Job] = {}


def job_register(
    name: str,
    *,
    label: str,
    run: Callable[..., dict],
    result_labels: dict[str, str] | None = None,
    applies: Callable[..., bool] | None = None,
) -> Job:
    """Register a job (from an AppConfig.ready()). Registering a name again replaces it."""
    job = Job(
        name=name,
        label=label,
        run=run,
        result_labels=result_labels or {},
        applies=applies or (lambda tenant: True),
        lock=lock_namespace(f"jobs.{name}"),
    )
    _JOBS[name] = job
    return job


def job_get(name: str) -> Job:
    try:
        return _JOBS[name]
    except KeyError:
        raise ValueError(f"Unknown job {name!r}") from None


def jobs_registered(tenant=None) -> list[Job]:
    """Every registered job, in the order of registration; with `tenant`, those for it."""
    return [job for job in _JOBS.values() if tenant is None or job.applies(tenant)]


def job_result_labels(name: str) -> dict[str, str]:
    job = _JOBS.get(name)
    return job.result_labels if job else {}


@contextmanager
def job_lock(name: str, tenant_id: int) -> Iterator[bool]:
    """The advisory lock of job `name` for one tenant: True when this process holds it."""
    with advisory_lock(job_get(name).lock, tenant_id) as held:
        yield held


ERROR_LINE_MAX = 300


def job_failed_reason(error: Exception) -> StoredText:
    """What the dashboard says of a run that raised: the exception's class and the first line
    of its message, as they were said (the traceback is in the log, not for operators)."""
    first_line = next(iter(str(error).splitlines()), "")
    said = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    return stored_gettext("The run failed: %(error)s", error=said[:ERROR_LINE_MAX])


def job_runs_fail_dead(runs) -> int:
    """Fail the runs of `runs` left running: the caller holds the job's lock, so whoever
    ran them is gone (killed, out of memory, restarted)."""
    from .models import JobRun  # core.models reads this registry for its choices: a circle

    if connection.vendor != "postgresql":  # no lock there: a live run may be under way
        return 0
    return leases_fail_running(runs, JobRun.lease_interrupted_reason(1))


def job_run(*, tenant, job: str, now: datetime | None = None):
    """Run job `job` for `tenant` and record the run; None when another worker runs it."""
    from .models import JobRun, JobStatus  # core.models reads this registry: a circle

    registered = job_get(job)
    with job_lock(job, tenant.pk) as held:
        if not held:
            logger.info("Job %s for tenant %s is running elsewhere; skipped.", job, tenant.pk)
            return None
        runs = JobRun.objects.for_tenant(tenant).filter(job=job)
        runs.filter(started_at__lt=timezone.now() - JOB_RUNS_KEPT).delete()
        job_runs_fail_dead(runs)
        run, lease = lease_create(runs, tenant=tenant, job=job)
        try:
            with tenant_formatting(tenant):  # what the job writes reads in the tenant's formats
                result = registered.run(tenant=tenant, now=now)
        except Exception as error:
            logger.exception("Job %s for tenant %s failed", job, tenant.pk)
            lease_fail(lease, job_failed_reason(error))
        else:
            lease_finish(lease, status=JobStatus.OK, result=result)
        run.refresh_from_db()
        return run


def job_runs_last(tenant) -> list[dict]:
    """The latest run of each job that applies to the tenant (one query per job)."""
    from .models import JobRun  # core.models reads this registry for its choices: a circle

    runs = JobRun.objects.for_tenant(tenant)
    return [
        {
            "job": job.name,
            "label": job.label,
            "run": runs.filter(job=job.name).order_by("-started_at", "-pk").first(),
        }
        for job in jobs_registered(tenant)
    ]


def job_run_result(*, tenant, job: str) -> dict | None:
    """A task's answer for `job_run`: the status and figures of the run, None when skipped
    (another worker runs it)."""
    run = job_run(tenant=tenant, job=job)
    return None if run is None else {"status": run.status, **run.result}

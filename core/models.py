"""Records every app shares: the runs of scheduled jobs.

Core is below tenancy, so the tenant is named by the string "tenancy.Tenant" and the rows get
django-scopes' ScopedManager directly (an unscoped query raises, as for every tenant-owned
row); `JobRun.objects.for_tenant(tenant)` reads one tenant's runs whatever scope is active.
Which jobs exist, and what their figures mean, is the registry's (core/jobs.py).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from .formatting import format_count, format_datetime
from .leases import Leased
from .stored_text import StoredText, StoredTextField, stored_gettext
from .tenant_keys import TenantField


class _JobRunManagerBase(models.Manager):
    def for_tenant(self, tenant) -> models.QuerySet:
        """Runs of one tenant, whatever scope is active; never all tenants."""
        if tenant is None:
            raise ValueError("for_tenant() needs a tenant; refusing an unscoped query.")
        return self.with_scope(tenant=tenant).get_queryset()


def job_choices() -> list[tuple[str, str]]:
    """The registered jobs (core/jobs.py), read when the choices are: a job an app registers
    needs no migration."""
    from .jobs import jobs_registered  # core.jobs records runs in this model: a circle

    return [(job.name, job.label) for job in jobs_registered()]


class JobStatus(models.TextChoices):
    RUNNING = "running", pgettext_lazy("job run status", "Running")
    OK = "ok", pgettext_lazy("job run status", "Done")
    SKIPPED = "skipped", _("Skipped (another run was under way)")
    FAILED = "failed", pgettext_lazy("job run status", "Failed")


class JobRun(Leased):
    """One run of a scheduled job for one tenant, with what it did (shown on the dashboard).
    Its lease is a deadline: the hard time limit, which the task cannot outlive."""

    LEASE_QUEUED = None
    LEASE_RUNNING = JobStatus.RUNNING
    LEASE_FAILED = JobStatus.FAILED

    tenant = TenantField(
        "tenancy.Tenant", on_delete=models.CASCADE, related_name="+", verbose_name=_("tenant")
    )
    job = models.CharField(max_length=32, choices=job_choices, verbose_name=_("job"))
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    status = models.CharField(
        max_length=10,
        choices=JobStatus.choices,
        default=JobStatus.RUNNING,
        verbose_name=_("status"),
    )
    result = models.JSONField(default=dict, blank=True, verbose_name=_("result"))
    error = StoredTextField(verbose_name=_("error"), blank=True, default=str)
    queries = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("database queries"))

    objects = ScopedManager(tenant="tenant", _manager_class=_JobRunManagerBase)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        indexes = [
            models.Index(fields=["tenant", "job", "-started_at"], name="core_jobrun_last_idx"),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status=JobStatus.RUNNING),
                name="core_jobrun_running_idx",
            ),
        ]

    def __str__(self) -> str:
        started = format_datetime(self.started_at)
        return f"{self.get_job_display()} {started} {self.get_status_display()}"

    @classmethod
    def lease_duration(cls) -> timedelta:
        return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)

    @classmethod
    def lease_interrupted_reason(cls, attempts: int) -> StoredText:
        return stored_gettext(
            "The worker stopped before this run finished (restarted or out of memory); "
            "what it had done is kept, and the next run does the rest."
        )

    @property
    def summary(self) -> str:
        """What the run did, in the reader's language and digit grouping: the figures its job
        labels that are not zero, without the job's own bookkeeping (those stay in `result`
        for the admin); a failed run, why it failed."""
        from .jobs import job_result_labels  # core.jobs records runs in this model: a circle

        if self.error:
            return str(self.error).splitlines()[0][:200]
        done = [
            f"{label} {format_count(self.result[key])}"
            for key, label in job_result_labels(self.job).items()
            if self.result.get(key)
        ]
        return ", ".join(done) or gettext("Nothing to do.")

"""Export jobs: an .xlsx file produced by a Celery worker, with progress the page can poll."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.languages import StartedInLanguage
from core.leases import Leased
from core.stored_text import StoredText, StoredTextField, stored_ngettext
from core.tenant_keys import TenantForeignKey
from tenancy.models import TenantOwnedModel


class ExportStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("export", "Queued")
    RUNNING = "running", pgettext_lazy("export", "Running")
    DONE = "done", pgettext_lazy("export", "Done")
    FAILED = "failed", pgettext_lazy("export", "Failed")


ACTIVE_STATUSES = (ExportStatus.QUEUED, ExportStatus.RUNNING)


def export_upload_to(job: "ExportJob", filename: str) -> str:
    return f"exports/{job.tenant_id}/{timezone.now():%Y/%m}/{job.pk}-{filename}"


class ExportJob(TenantOwnedModel, Leased, StartedInLanguage):
    """Who asked for which export (`kind`, one of exports.registry's kinds, with the
    `parameters` that rebuild the rows the operator saw), and how far it got. The worker
    writing it holds a lease renewed at each progress report (core/leases.py)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    # An export started over the API: the token, which sees its own jobs as an operator does.
    api_token = TenantForeignKey(
        "tenancy.ApiToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("API token"),
    )
    kind = models.CharField(max_length=60, verbose_name=_("export"))
    # What the Exports page calls it, read in each reader's language (`heading`).
    title = StoredTextField(
        _("title"), blank=True, default=str, help_text=_("What the operator sees.")
    )
    parameters = models.JSONField(default=dict, blank=True, verbose_name=_("parameters"))
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    progress = models.PositiveBigIntegerField(
        _("progress"), default=0, help_text=_("Rows written so far.")
    )
    total = models.PositiveBigIntegerField(
        _("total"), null=True, blank=True, help_text=_("Rows to write.")
    )
    file = models.FileField(
        upload_to=export_upload_to, max_length=255, blank=True, verbose_name=_("file")
    )
    error = StoredTextField(verbose_name=_("error"), blank=True, default=str)
    idempotency_key = models.CharField(
        max_length=100, null=True, blank=True, verbose_name=_("idempotency key")
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="export_job_unique_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "created_by", "created_at", "id"], name="export_job_owner_idx"
            ),
            models.Index(fields=["tenant", "created_at", "id"], name="export_job_created_idx"),
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status=ExportStatus.RUNNING),
                name="export_job_running_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.heading} ({self.get_status_display()})"

    @property
    def heading(self) -> str:
        """The title in the reader's language, its first letter upper case (a list's title is
        its rows' name, "clients"); the kind's code for a job from before titles."""
        return capfirst(str(self.title)) or self.kind

    @classmethod
    def lease_interrupted_reason(cls, attempts: int) -> StoredText:
        return stored_ngettext(
            "The export was interrupted %(count)s time (the worker stopped, e.g. out of memory). "
            "Choose a shorter period and try again.",
            "The export was interrupted %(count)s times (the worker stopped, e.g. out of "
            "memory). Choose a shorter period and try again.",
            attempts,
        )

    def lease_on_expired(self, lease, now) -> str:
        """Restart the export from the beginning, until it was interrupted too often."""
        from .services import export_job_recover  # the services use this model: a circle

        return export_job_recover(job=self, lease=lease, now=now)

    @property
    def stalled(self) -> bool:
        """Running past its lease: its worker stopped, and the sweep restarts or fails it."""
        return (
            self.status == ExportStatus.RUNNING
            and self.lease_expires_at is not None
            and self.lease_expires_at < timezone.now()
        )

    @property
    def restarted(self) -> bool:
        """Shown while it runs again after its worker stopped."""
        return self.attempts > 1 and self.is_active

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.progress * 100 / self.total))

    def get_absolute_url(self) -> str:
        return reverse("exports:export_detail", kwargs={"pk": self.pk})

    def get_download_url(self) -> str:
        return reverse("exports:export_download", kwargs={"pk": self.pk})

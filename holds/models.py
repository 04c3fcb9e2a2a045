"""Holds (blocking records, as Kill Bill's blocking states), the tracking of negative funds,
and the e-mails the client gets. The runs of the scheduled jobs are core's `JobRun`.

A client is Active only when no hold is in force; an administrative hold is shown over a
financial one; lifting one leaves the other. `Client.status` is stored (the list filters a
million rows on it) and kept in line with the holds in force by `holds.services`.

Negative funds. `FundsShortfall` has one row per client whose available funds (balance +
credit limit) are below zero, with `since`: the time of the posting (or credit-limit change)
that took them below zero. It is kept by receivers on the ledger (holds/receivers.py) in the
posting's own transaction, only when a posting crosses zero, so that the hot path of the ledger
pays nothing otherwise; the financial-holds job reconciles it with the accounts in two set-based
statements (a row missed by a bulk loader starts its grace period when the job first sees it).
A separate table rather than an Account column, so that billing's model stays billing's.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.template import Template, TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.formatting import format_datetime
from core.stored_text import StoredTextField
from core.tenant_keys import TenantForeignKey, TenantOneToOneField
from tenancy.models import TenantOwnedModel


class HoldKind(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("Administrative hold")
    FINANCIAL = "financial", _("Financial hold")


class ClientHold(TenantOwnedModel):
    """One hold: in force while `lifted_at` is empty. Never deleted (the history of holds).

    Its reasons are stored messages (core/stored_text.py): the job's debt and a top-up's
    release read in each reader's language; an operator's words are literal text."""

    client = TenantForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="holds", verbose_name=_("client")
    )
    kind = models.CharField(_("Hold"), max_length=16, choices=HoldKind.choices)
    reason = StoredTextField(_("Reason"), default=str)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("set by"),
    )
    set_by_job = models.CharField(
        max_length=60,
        blank=True,
        help_text=_("The job that set it, when no operator did."),
        verbose_name=_("set by the job"),
    )
    set_at = models.DateTimeField(_("Set at"), default=timezone.now)
    lifted_at = models.DateTimeField(_("Lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    lifted_by_job = models.CharField(max_length=60, blank=True, verbose_name=_("lifted by the job"))
    lift_reason = StoredTextField(_("Reason for release"), blank=True, default=str)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "client", "kind"],
                condition=Q(lifted_at__isnull=True),
                name="hold_one_in_force_per_kind",
                violation_error_message=_("The client is already on this kind of hold."),
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "set_at"], name="hold_set_at_idx"),
            models.Index(
                fields=["tenant", "kind", "client"],
                condition=Q(lifted_at__isnull=True),
                name="hold_in_force_idx",
            ),
        ]

    def __str__(self) -> str:
        state = _("in force") if self.in_force else _("lifted")
        return f"{self.get_kind_display()} ({state}): {self.reason}"

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None

    @property
    def set_by_label(self) -> str:
        return _operator_label(self.set_by if self.set_by_id else None, self.set_by_job)

    @property
    def set_by_shown(self) -> str:
        """`set_by_label` as a page shows it: a job's name and "system" in the page's language
        (the API keeps `set_by_label` as it is stored)."""
        if self.set_by_id:
            return self.set_by_label
        return _job_shown(self.set_by_job)

    @property
    def lifted_by_label(self) -> str:
        """Who released the hold (empty while it is in force)."""
        if self.in_force:
            return ""
        return _operator_label(self.lifted_by if self.lifted_by_id else None, self.lifted_by_job)


def _operator_label(user, job: str) -> str:
    """An operator by name, else the job that acted, else "system"."""
    if user is not None:
        return user.get_full_name() or user.get_username()
    return job or "system"


# The names of the jobs that set and lift holds (holds.services.JOB_*), as pages show them.
JOB_NAMES = {
    "financial holds": _("financial holds"),
    "auto-renewal": _("auto-renewal"),
    "top-up": _("top-up"),
    "system": _("system"),
}


def _job_shown(job: str) -> str:
    return str(JOB_NAMES.get(job or "system", job))


class FundsShortfall(TenantOwnedModel):
    """Since when a client's available funds have been below zero (one row while they are)."""

    client = TenantOneToOneField(
        "clients.Client",
        on_delete=models.CASCADE,
        related_name="funds_shortfall",
        verbose_name=_("client"),
    )
    since = models.DateTimeField(verbose_name=_("funds short since"))

    class Meta:
        verbose_name = _("funds shortfall")
        verbose_name_plural = _("funds shortfalls")
        indexes = [models.Index(fields=["tenant", "since"], name="shortfall_since_idx")]

    def __str__(self) -> str:
        return _("Client %(client)s below zero since %(since)s") % {
            "client": self.client_id,
            "since": format_datetime(self.since),
        }


class NotificationKind(models.TextChoices):
    HOLD_SET = "hold_set", _("A hold was set")
    EXPIRING = "expiring", _("A subscription is about to expire")
    EXPIRED = "expired", _("A subscription has expired")


class NotificationTemplate(TenantOwnedModel):
    """A tenant's wording of one e-mail, in Django's template language. Without a row, the
    default in holds/notifications.py is used. Context: client, tenant, hold, subscription,
    package, currency, today."""

    kind = models.CharField(
        max_length=16, choices=NotificationKind.choices, verbose_name=_("e-mail")
    )
    subject = models.CharField(max_length=200, verbose_name=_("subject"))
    body = models.TextField(verbose_name=_("body"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("e-mail template")
        verbose_name_plural = _("e-mail templates")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="notification_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    def clean(self):
        """A wording that does not compile is refused next to its field when it is saved,
        rather than found out by the sender of every e-mail that uses it."""
        errors = {}
        for name in ("subject", "body"):
            try:
                Template(getattr(self, name) or "")
            except TemplateSyntaxError as exc:
                errors[name] = ValidationError(
                    _("This is not a valid template: %(error)s"), params={"error": exc}
                )
        if errors:
            raise ValidationError(errors)

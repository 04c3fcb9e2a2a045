"""Messaging: sender IDs (the Names tab), message records, and the daily rollups that the
Statistics tab reads.

Message records are large (the design point is 100M per tenant), so the reports never read
them: they read one rollup per report grain (DESIGN.md, "Known pitfalls"):

* `DailySenderStat`  — client × day × channel × sender: the day and sender ID reports;
* `DailyRouteStat`   — client × day × channel × country × operator: the operator and country
  reports.

A day is the tenant's calendar day of the message's `sent_at` (stored on the message as `day`
at ingestion, so that re-aggregating a day reads one index range). Ingestion and delivery
reports mark the (client, day) pairs they touch in `DirtyDay`; the rollup job rebuilds exactly
those pairs (delete + INSERT ... SELECT), so a late delivery report re-aggregates the day the
message was sent on. `MessagingCharge` holds, per client and day, what is due (from the
rollup) and what has been charged to the ledger; the charge job posts the difference.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clients.models import Client
from core.formatting import format_date, money
from core.tenant_keys import TenantForeignKey
from tenancy.models import TenantOwnedModel

from .numbers import OperatorSource
from .validators import validate_sender_name

PRICE_DIGITS = {"max_digits": 14, "decimal_places": 4}


class MessageChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    VIBER = "viber", _("Viber")


class SenderStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("sender status", "Pending")
    APPROVED = "approved", pgettext_lazy("sender status", "Approved")
    REJECTED = "rejected", pgettext_lazy("sender status", "Rejected")
    BLOCKED = "blocked", pgettext_lazy("sender status", "Blocked")


class SenderId(TenantOwnedModel):
    """A name a client sends from (the Names tab), with the questionnaire the provider needs
    before it registers the name with operators."""

    client = TenantForeignKey(
        Client, on_delete=models.CASCADE, related_name="sender_ids", verbose_name=_("client")
    )
    name = models.CharField(
        _("name"),
        max_length=16,
        validators=[validate_sender_name],
        help_text=_("Alphanumeric: up to 11 Latin letters and digits; numeric: up to 15 digits."),
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=MessageChannel.choices, default=MessageChannel.SMS
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SenderStatus.choices, default=SenderStatus.PENDING
    )
    purpose = models.TextField(_("Purpose of the messages"), blank=True, max_length=1000)
    sample_text = models.TextField(_("Sample text"), blank=True, max_length=1000)
    documents_note = models.TextField(
        _("Company documents"),
        blank=True,
        max_length=1000,
        help_text=_("Which documents the company provided (registration, trademark, letter)."),
    )
    status_reason = models.CharField(_("Reason"), max_length=255, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("sender ID")
        verbose_name_plural = _("sender IDs")
        constraints = [
            models.UniqueConstraint(
                "tenant", "client", "channel", Lower("name"), name="sender_id_unique_name"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "client", "name", "id"], name="sender_client_idx")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"

    @property
    def questionnaire_complete(self) -> bool:
        return all(v.strip() for v in (self.purpose, self.sample_text, self.documents_note))

    @property
    def is_approved(self) -> bool:
        return self.status == SenderStatus.APPROVED


class MessageStatus(models.TextChoices):
    SENT = "sent", _("Sent (awaiting report)")
    DELIVERED = "delivered", pgettext_lazy("message status", "Delivered")
    FAILED = "failed", pgettext_lazy("message status", "Failed")
    EXPIRED = "expired", pgettext_lazy("message status", "Expired")
    REJECTED = "rejected", pgettext_lazy("message status", "Rejected")


FINAL_STATUSES = frozenset(
    {MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED, MessageStatus.REJECTED}
)


class OperatorSourceChoices(models.TextChoices):
    GATEWAY = OperatorSource.GATEWAY, _("Gateway report")
    PREFIX = OperatorSource.PREFIX, _("Number prefix")
    UNKNOWN = OperatorSource.UNKNOWN, pgettext_lazy("operator source", "Unknown")


class Message(TenantOwnedModel):
    """One message as the gateway sent it. `key` is the idempotency key (the gateway's message
    id): importing the same message again changes nothing, and delivery reports name it."""

    client = TenantForeignKey(
        Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("client")
    )
    key = models.CharField(max_length=100, verbose_name=_("gateway message ID"))
    channel = models.CharField(
        max_length=8, choices=MessageChannel.choices, verbose_name=_("channel")
    )
    sender = models.CharField(_("Sender ID"), max_length=16)
    recipient = models.CharField(max_length=16, help_text=_("E.164"), verbose_name=_("recipient"))
    country = models.CharField(max_length=2, blank=True, verbose_name=_("country"))
    operator = models.CharField(max_length=64, blank=True, verbose_name=_("mobile operator"))
    operator_source = models.CharField(
        max_length=8,
        choices=OperatorSourceChoices.choices,
        default=OperatorSource.UNKNOWN,
        verbose_name=_("operator known from"),
    )
    mcc_mnc = models.CharField(_("MCC/MNC"), max_length=6, blank=True)
    parts = models.PositiveSmallIntegerField(default=1, verbose_name=_("number of parts"))
    status = models.CharField(
        max_length=10,
        choices=MessageStatus.choices,
        default=MessageStatus.SENT,
        verbose_name=_("status"),
    )
    price = models.DecimalField(
        **PRICE_DIGITS,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        verbose_name=_("price"),
    )
    sent_at = models.DateTimeField(verbose_name=_("sent at"))
    day = models.DateField(
        help_text=_("The tenant's calendar day of sent_at."), verbose_name=_("day")
    )
    delivered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("delivered at"))
    status_changed_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("status changed at")
    )

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="message_unique_key"),
        ]
        indexes = [
            # Re-aggregating one (client, day) reads one range of this index.
            models.Index(fields=["tenant", "client", "day"], name="message_client_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} → {self.recipient}"


class StatCounters(models.Model):
    """The figures every rollup row carries. `sent_parts` excludes rejected messages (the
    gateway never sent them); `price` is what the client is charged (rejected ones are free)."""

    client = TenantForeignKey(
        Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("client")
    )
    day = models.DateField(verbose_name=_("day"))
    channel = models.CharField(
        max_length=8, choices=MessageChannel.choices, verbose_name=_("channel")
    )
    messages = models.PositiveIntegerField(default=0, verbose_name=_("number of messages"))
    sent_parts = models.PositiveBigIntegerField(default=0, verbose_name=_("sent parts"))
    delivered_parts = models.PositiveBigIntegerField(default=0, verbose_name=_("delivered parts"))
    pending_parts = models.PositiveBigIntegerField(_("Awaiting report"), default=0)
    failed_parts = models.PositiveBigIntegerField(_("Failed or expired"), default=0)
    rejected_parts = models.PositiveBigIntegerField(default=0, verbose_name=_("rejected parts"))
    price = models.DecimalField(
        **PRICE_DIGITS, default=Decimal("0"), verbose_name=_("amount charged")
    )

    class Meta:
        abstract = True


class DailySenderStat(TenantOwnedModel, StatCounters):
    sender = models.CharField(max_length=16, verbose_name=_("sender ID"))

    class Meta:
        verbose_name = _("daily statistics by sender ID")
        verbose_name_plural = _("daily statistics by sender ID")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "client", "day", "channel", "sender"],
                name="daily_sender_stat_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.day} {self.channel} {self.sender}"


class DailyRouteStat(TenantOwnedModel, StatCounters):
    country = models.CharField(max_length=2, blank=True, verbose_name=_("country"))
    operator = models.CharField(max_length=64, blank=True, verbose_name=_("mobile operator"))

    class Meta:
        verbose_name = _("daily statistics by country and operator")
        verbose_name_plural = _("daily statistics by country and operator")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "client", "day", "channel", "country", "operator"],
                name="daily_route_stat_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.day} {self.channel} {self.country} {self.operator}"


class DirtyDay(TenantOwnedModel):
    """A (client, day) whose messages changed since its rollups were built. `generation` grows
    on every change, so that the rollup job removes only the marks it has caught up with."""

    client = TenantForeignKey(
        Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("client")
    )
    day = models.DateField(verbose_name=_("day"))
    generation = models.PositiveBigIntegerField(default=1, verbose_name=_("generation"))

    class Meta:
        verbose_name = _("day to recount")
        verbose_name_plural = _("days to recount")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "client", "day"], name="dirty_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.day} (gen {self.generation})"


class MessagingCharge(TenantOwnedModel):
    """What one client owes for one day's messages (`due_*`, kept by the rollup job) and what
    was posted to the ledger for it (`charged_*`, kept by the charge job). `settled` is False
    while the two differ; the charge job posts the difference: the first posting is the day's
    charge, later ones are corrections (a late report, a re-priced message)."""

    client = TenantForeignKey(
        Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("client")
    )
    day = models.DateField(verbose_name=_("day"))
    due_parts = models.PositiveBigIntegerField(default=0, verbose_name=_("parts due"))
    due_amount = models.DecimalField(
        **PRICE_DIGITS, default=Decimal("0"), verbose_name=_("amount due")
    )
    charged_parts = models.PositiveBigIntegerField(default=0, verbose_name=_("parts charged"))
    charged_amount = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), verbose_name=_("amount charged")
    )
    postings = models.PositiveIntegerField(default=0, verbose_name=_("postings"))
    settled = models.BooleanField(default=False, verbose_name=_("settled"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("daily messaging charge")
        verbose_name_plural = _("daily messaging charges")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "client", "day"], name="messaging_charge_unique"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "settled", "day"], name="messaging_charge_todo_idx")
        ]

    def __str__(self) -> str:
        return _("%(client)s %(day)s: due %(due)s, charged %(charged)s") % {
            "client": self.client_id,
            "day": format_date(self.day),
            "due": money(self.due_amount),
            "charged": money(self.charged_amount),
        }

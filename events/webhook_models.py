"""Webhooks: the endpoints a tenant's owners register and each delivery of an event to one.

A delivery is a leased record of work (core/leases.py): a worker claims it, posts it and
finishes it as delivered, or puts it back as pending with the time of its next attempt. A
worker that dies mid-delivery renews nothing, so beat's lease sweep puts the delivery back and
it is posted again with the same delivery id (receivers deduplicate by it).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core import crypto
from core.leases import Lease, Leased, lease_requeue
from core.stored_text import StoredTextField
from core.tenant_keys import TenantForeignKey
from tenancy.models import TenantOwnedModel

from .models import Event

URL_MAX_LENGTH = 2000
SECRET_MAX_LENGTH = 200
EXCERPT_LENGTH = 1000


class WebhookEndpoint(TenantOwnedModel):
    """A receiver's URL, the secret both sides sign with, and the event types it wants.

    The secret is encrypted at rest with the key that encrypts router passwords (core/crypto):
    it must be read back to sign. `active_since` is when the endpoint last started receiving:
    events before it are not sent. `failing_since` is the first failure after the last success;
    an endpoint failing for WEBHOOK_DISABLE_AFTER_SECONDS is disabled with its reason."""

    url = models.URLField(_("URL"), max_length=URL_MAX_LENGTH)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret_encrypted = models.TextField(verbose_name=_("signing secret (encrypted)"))
    event_types = models.JSONField(default=list, verbose_name=_("event types"))
    is_active = models.BooleanField(pgettext_lazy("webhook endpoint", "Active"), default=True)
    active_since = models.DateTimeField(default=timezone.now, verbose_name=_("active since"))
    failing_since = models.DateTimeField(null=True, blank=True, verbose_name=_("failing since"))
    disabled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("disabled at"))
    # Why Clientdesk disabled it, as its message: read in each reader's language.
    disabled_reason = StoredTextField(blank=True, default=str, verbose_name=_("reason disabled"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        indexes = [models.Index(fields=["tenant", "is_active"], name="webhook_endpoint_active_idx")]

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("webhook delivery", "Pending")
    RUNNING = "running", pgettext_lazy("webhook delivery", "Sending")
    DELIVERED = "delivered", pgettext_lazy("webhook delivery", "Delivered")
    FAILED = "failed", pgettext_lazy("webhook delivery", "Failed")


OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RUNNING)


class WebhookDelivery(Leased, TenantOwnedModel):
    """One event to one endpoint, tried until delivered or given up.

    `delivery_id` is what the receiver sees in X-Clientdesk-Delivery: the same on every attempt
    of this delivery; Redeliver makes a new delivery (`redelivery_of` names the first) with an
    id of its own. `object_key` ("client:42") orders the deliveries of one object per endpoint:
    a delivery is not sent while an earlier one of the same object is open. `attempts` counts
    the claims (each is one try at the receiver)."""

    endpoint = TenantForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="+", verbose_name=_("endpoint")
    )
    event = TenantForeignKey(
        Event, on_delete=models.CASCADE, related_name="+", verbose_name=_("event")
    )
    delivery_id = models.UUIDField(
        default=uuid.uuid4, editable=False, verbose_name=_("delivery ID")
    )
    redelivery_of = TenantForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("redelivery of"),
    )
    object_key = models.CharField(max_length=80, verbose_name=_("object key"))
    status = models.CharField(
        _("status"), max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    last_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last attempt at"))
    response_code = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("response code")
    )
    duration_ms = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("duration (ms)")
    )
    response_excerpt = models.CharField(
        max_length=EXCERPT_LENGTH, blank=True, verbose_name=_("start of the response")
    )
    error = StoredTextField(verbose_name=_("error"), blank=True, default=str)
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    LEASE_QUEUED = DeliveryStatus.PENDING
    LEASE_RUNNING = DeliveryStatus.RUNNING
    LEASE_FAILED = DeliveryStatus.FAILED
    # Retries are bounded by time (24 hours), not by claims: a delivery is claimed once per try.
    LEASE_MAX_ATTEMPTS = 30000

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            # Fan-out writes each event once per endpoint, however often it runs.
            models.UniqueConstraint(
                fields=["tenant", "endpoint", "event"],
                condition=Q(redelivery_of__isnull=True),
                name="webhook_delivery_once",
            ),
            # The id a receiver sees, once (keyed by tenant like every unique key).
            models.UniqueConstraint(
                fields=["tenant", "delivery_id"], name="webhook_delivery_unique_id"
            ),
        ]
        indexes = [
            # The endpoint's delivery log, newest first.
            models.Index(
                fields=["endpoint", "-created_at", "-id"], name="webhook_delivery_log_idx"
            ),
            # Due deliveries, for the dispatcher (open ones only).
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due_idx",
            ),
            # The age of the oldest pending delivery, read at each scrape of /metrics
            # (events/webhook_metrics.py) without visiting every pending row.
            models.Index(
                fields=["created_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_age_idx",
            ),
            # An earlier open delivery of the same object holds a later one back.
            models.Index(
                fields=["endpoint", "object_key", "event"],
                condition=Q(status__in=["pending", "running"], redelivery_of__isnull=True),
                name="webhook_delivery_order_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} ({self.get_status_display()})"

    @classmethod
    def lease_duration(cls) -> timedelta:
        return timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)

    def lease_on_expired(self, lease: Lease, now) -> str:
        """A worker died mid-delivery: send it again (same delivery id) at once."""
        if lease_requeue(lease, now):
            type(self)._base_manager.filter(pk=self.pk, status=self.LEASE_QUEUED).update(
                next_attempt_at=now
            )
            return "requeued"
        return ""

"""The event: who did what to which object of a tenant, and what changed."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.formatting import format_datetime
from core.stored_text import StoredTextField
from tenancy.models import TenantOwnedModel


class ActorKind(models.TextChoices):
    OPERATOR = "operator", pgettext_lazy("portal user", "Operator")
    API_TOKEN = "api_token", _("API token")  # actor_label names the token; its id is in actor_ref
    JOB = "job", _("Scheduled job")
    SYSTEM = "system", _("System")


# The names the machinery's own events carry in `actor_label`, as an operator reads them (the
# stored label stays the code; a job or token's own name is shown as it is).
MACHINE_ACTORS = {
    "system": pgettext_lazy("event actor", "system"),
    "webhooks": pgettext_lazy("event actor", "webhooks"),
    "router poller": pgettext_lazy("event actor", "router poller"),
    "import": pgettext_lazy("event actor", "import"),
    "demo": pgettext_lazy("event actor", "demo"),
}


class Event(TenantOwnedModel):
    """One business change, never edited afterwards (events/services.py writes them).

    `type` is `<object>.<what happened>` (docs/events.md lists each with its payload).
    `actor` is the operator when one acted; otherwise `actor_kind` says what did it and
    `actor_label` names it (the job, the token). `object_type`/`object_id` name the changed
    row and `client_id` the client it concerns, as plain ids rather than foreign keys: events
    sit below the apps whose rows they describe, and the history stays when a row goes.
    `description` is the sentence the client timeline shows, stored as its message
    (core/stored_text.py) so that each reader reads it in their own language and formats;
    `payload` keeps the facts (old and new values, amounts, ids).
    """

    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    type = models.CharField(max_length=60, verbose_name=_("event type"))
    actor_kind = models.CharField(
        max_length=20,
        choices=ActorKind.choices,
        default=ActorKind.SYSTEM,
        verbose_name=_("kind of actor"),
    )
    actor = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(max_length=100, blank=True, verbose_name=_("actor's name"))
    actor_ref = models.BigIntegerField(null=True, blank=True, verbose_name=_("actor's reference"))
    object_type = models.CharField(max_length=40, blank=True, verbose_name=_("object type"))
    object_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("object ID"))
    client_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("client ID"))
    description = StoredTextField(verbose_name=_("description"))
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            # The audit log, newest first, paged by (created_at, id) without a count.
            models.Index(fields=["tenant", "-created_at", "-id"], name="event_tenant_time_idx"),
            # The audit log filtered by type.
            models.Index(
                fields=["tenant", "type", "-created_at", "-id"], name="event_tenant_type_idx"
            ),
            # A client's timeline, and the audit log filtered by client.
            models.Index(
                fields=["tenant", "client_id", "-created_at", "-id"],
                name="event_tenant_client_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{format_datetime(self.created_at)} {self.type}: {self.description}"  # read now

    @property
    def who(self) -> str:
        if self.actor_id and self.actor:
            return self.actor.get_full_name() or self.actor.get_username()
        label = self.actor_label or "system"
        return str(MACHINE_ACTORS.get(label, label))


# Webhooks: endpoints and deliveries, in modules of their own.
# The e-mail outbox's model lives with its rules (events/outbox.py); imported here so that
# Django finds it among the app's models.
from .outbox import EmailStatus, OutboxEmail  # noqa: E402, F401
from .webhook_models import WebhookDelivery, WebhookEndpoint  # noqa: E402, F401

"""The e-mail outbox: every e-mail the product owes a client is a row written in the
transaction of the change that owes it, and sent after the commit by a worker (events/mail.py).

Rules:
- `emails_enqueue` runs inside the business transaction (it raises outside one): a rolled-back
  change owes no e-mail, a committed one always has its row, whatever happens to the worker.
- `key` is the e-mail's idempotency key, unique per tenant ("hold:<id>", "expired:<id>",
  "credit:<id>"): owing the same e-mail again writes nothing.
- A one-off message (an owner's notice, a credit-limit notice) is owed with its text. The
  notices that jobs owe by the thousand (a bulk hold, the expiry run) are owed without it:
  the row names its kind and the objects it speaks of (`context`), and the sender renders it
  just before sending, through the renderer its app registered for the kind
  (`register_email_renderer`). Rendering ten thousand e-mails through the template engine
  inside the hold's transaction kept a thousand clients locked for most of each chunk; after
  the commit it costs the sender a fraction of the SMTP round trip it makes anyway. Either
  way the row keeps the text the sender sent: it is stored with the outcome, or with the
  give-back of a retry, so a retry sends what the first attempt did. What a notice says is
  what its objects say when it is sent (a client renamed meanwhile is named as renamed); a
  notice whose objects are gone by then, or whose wording cannot be rendered, is failed with
  the reason.
- A row is a leased record of work (core/leases.py): `queued` until a worker claims it,
  `sending` under the worker's lease, then `sent`, or `failed` with the reason.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.leases import Lease, Leased, lease_requeue
from core.sql import instance_copy, objects_insert
from core.stored_text import StoredText, StoredTextField, stored_gettext
from tenancy.models import Tenant, TenantOwnedModel

logger = logging.getLogger(__name__)


class EmailStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("e-mail", "Queued")
    SENDING = "sending", pgettext_lazy("e-mail", "Sending")
    SENT = "sent", pgettext_lazy("e-mail", "Sent")
    FAILED = "failed", pgettext_lazy("e-mail", "Failed")


class OutboxEmail(Leased, TenantOwnedModel):
    """One e-mail owed to a client, sent once per key (events/mail.py says how)."""

    key = models.CharField(_("key"), max_length=120)
    kind = models.CharField(_("kind"), max_length=40, blank=True)
    client_id = models.BigIntegerField(_("client ID"), null=True, blank=True)
    to = models.JSONField(_("to"), default=list, help_text=_("The recipients' addresses."))
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("body"), blank=True)
    context = models.JSONField(
        _("context"),
        default=dict,
        db_default={},  # an old process's insert during an upgrade still writes its row
        blank=True,
        help_text=_(
            "The ids of the objects an e-mail owed without its text speaks of: "
            "the sender renders it from them."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    next_attempt_at = models.DateTimeField(
        _("next attempt"),
        null=True,
        blank=True,
        help_text=_("When the sweep sends it, if no worker did before."),
    )
    finished_at = models.DateTimeField(
        _("finished"), null=True, blank=True, help_text=_("Sent or given up.")
    )
    error = StoredTextField(verbose_name=_("error"), blank=True, default=str)

    LEASE_QUEUED = EmailStatus.QUEUED
    LEASE_RUNNING = EmailStatus.SENDING
    LEASE_FAILED = EmailStatus.FAILED
    LEASE_MAX_ATTEMPTS = 6

    class Meta:
        verbose_name = _("outbox e-mail")
        verbose_name_plural = _("outbox e-mails")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="outbox_email_unique_key")
        ]
        indexes = [
            # The sweep: the few rows still owed, by when they are due.
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_email_due_idx",
                condition=models.Q(status__in=["queued", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} → {', '.join(self.to)} ({self.get_status_display()})"

    @classmethod
    def lease_duration(cls) -> timedelta:
        return timedelta(seconds=settings.EMAIL_LEASE_SECONDS)

    def lease_on_expired(self, lease: Lease, now) -> str:
        """A sender that died mid-send: owe the e-mail again (the sweep sends it)."""
        return "requeued" if lease_requeue(lease, now) else ""


@dataclass(frozen=True)
class OwedEmail:
    """An e-mail to owe: its key, recipients and text, or, without a text, the `context` its
    kind's renderer makes it from when it is sent."""

    key: str
    to: tuple[str, ...]
    subject: str = ""
    body: str = ""
    kind: str = ""
    client_id: int | None = None
    context: dict = field(default_factory=dict)


# Makes the text of the given rows of one tenant, owed without it, in place (subject and body);
# a row it cannot render keeps an empty body and says why (`email_render_failed`).
EmailRenderer = Callable[[Tenant, list[OutboxEmail]], None]
_RENDERERS: dict[str, EmailRenderer] = {}

WHAT_IT_SPEAKS_OF_IS_GONE = stored_gettext("Its text could not be made: what it speaks of is gone.")
NOT_RENDERED = stored_gettext("Its text could not be made.")
SAID_MAX = 1000  # what the system said, kept in a row's error


def register_email_renderer(kinds: Iterable[str], renderer: EmailRenderer) -> None:
    """The app that owes e-mails of these kinds without their text renders them with this
    (called from its AppConfig.ready)."""
    for kind in kinds:
        _RENDERERS[kind] = renderer


def emails_render(tenant: Tenant, emails: list[OutboxEmail]) -> list[OutboxEmail]:
    """Render the rows owed without their text, one renderer call per kind; returns the rows
    rendered now. A row still without a body is failed by the sender with the reason its
    renderer gave (`email_render_failure`)."""
    by_kind: dict[str, list[OutboxEmail]] = {}
    for email in emails:
        if not email.body:
            by_kind.setdefault(email.kind, []).append(email)
    for kind, group in by_kind.items():
        _render_group(tenant, _RENDERERS[kind], group)
    return [email for group in by_kind.values() for email in group if email.body]


def _render_group(tenant: Tenant, renderer: EmailRenderer, group: list[OutboxEmail]) -> None:
    """One call for the kind's rows; when it raises (a tenant's wording that does not
    compile), one call per row still without text, so that only the rows it fails on fail,
    with what it said, and the others are sent."""
    try:
        renderer(tenant, group)
        return
    except Exception:
        logger.exception("E-mails of kind %s could not be rendered together", group[0].kind)
    for email in group:
        if email.body:
            continue
        try:
            renderer(tenant, [email])
        except Exception as exc:  # noqa: BLE001 - any failure fails this row, with its reason
            reason = stored_gettext(
                "Its text could not be made: %(reason)s", reason=exception_said(exc)
            )
            email_render_failed(email, reason)


def exception_said(exc: Exception) -> str:
    """What the system or the mail server said, as a literal parameter of a row's error."""
    return f"{type(exc).__name__}: {exc}"[:SAID_MAX]


def email_render_failed(email: OutboxEmail, reason: StoredText) -> None:
    """Why a renderer left this row without text: the sender fails it with this reason."""
    email._render_failure = reason


def email_render_failure(email: OutboxEmail) -> StoredText:
    return getattr(email, "_render_failure", None) or NOT_RENDERED


# The worker queued at the commit sends a row first; the sweep takes it only after this.
SWEEP_GRACE = timedelta(minutes=2)
# E-mails per sending task: one SMTP connection each.
SEND_CHUNK = 200


def _outbox_rows(tenant: Tenant, emails: list[OwedEmail]) -> list[OutboxEmail]:
    """The rows of these e-mails, each a copy of one row of what they share (a job owes ten
    thousand at once: a copy costs a fraction of a model's construction)."""
    now = timezone.now()
    shared = OutboxEmail(tenant=tenant, created_at=now, next_attempt_at=now + SWEEP_GRACE)
    rows = []
    for email in emails:
        row = instance_copy(shared)
        row.key, row.kind, row.client_id = email.key[:120], email.kind[:40], email.client_id
        row.to, row.subject, row.body = list(email.to), email.subject[:300], email.body
        row.context = email.context
        rows.append(row)
    return rows


def emails_enqueue(*, tenant: Tenant, emails: Iterable[OwedEmail]) -> list[int]:
    """Owe these e-mails in the caller's transaction (keys already owed are left as they are)
    and queue their sending after the commit. Returns the ids of the rows written (on the
    SQLite demo, of the rows of these keys still queued)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("E-mails are owed in the transaction of their change.")
    emails = [email for email in emails if email.to]
    if not emails:
        return []
    for email in emails:
        if not email.body and email.kind not in _RENDERERS:
            raise ValueError(f"No renderer for e-mails of kind {email.kind!r} owed without text.")
    ids = objects_insert(_outbox_rows(tenant, emails), skip_conflicts=True)
    if ids is None:  # the SQLite demo: the rows of these keys still queued
        keys = [email.key[:120] for email in emails]
        rows = OutboxEmail.objects.for_tenant(tenant).filter(key__in=keys)
        ids = list(rows.filter(status=EmailStatus.QUEUED).values_list("pk", flat=True))
    if ids:
        from .tasks import outbox_emails_send  # the task calls the sender: a circle

        tenant_id = tenant.pk
        for start in range(0, len(ids), SEND_CHUNK):
            chunk = ids[start : start + SEND_CHUNK]
            transaction.on_commit(lambda chunk=chunk: outbox_emails_send.delay(tenant_id, chunk))
    return ids

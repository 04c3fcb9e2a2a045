"""Sending the outbox's e-mails (events/outbox.py): after the commit, never inside a
transaction or under a lock, each key at least once and, but for one window, once only.

How `emails_send` sends one e-mail:
1. the rows owed without their text are rendered (events/outbox.py), and the SMTP connection
   is opened (a server that is down claims nothing);
2. the row is claimed under a lease: one conditional UPDATE, committed at once, so that of two
   workers on one row one wins, and a sent or failed row is skipped (core/leases.py);
3. the message goes out over SMTP with no transaction open (it raises inside one);
4. the row is marked sent at once, with the text rendered in step 1: one UPDATE, fenced by
   the claim's attempt.

The window: a worker that dies between the SMTP server's reply to the message (250 after
DATA) and the commit of step 4, one round trip to PostgreSQL, leaves an e-mail that went out
but is still `sending`; once its lease expires the sweep sends it again. It is the only way a
key goes out twice, and the price of "at least once": marking before sending would lose the
e-mail of a worker that dies before the reply. The Message-ID is derived from the tenant and
the key, so the second copy carries the first one's id and mail clients that drop duplicates
by Message-ID show one. A living sender is never taken over: the lease (EMAIL_LEASE_SECONDS)
is checked to outlast several SMTP timeouts (EMAIL_TIMEOUT), and it covers one message only,
claimed just before its send.

Failures: a refusal (a 5xx reply, every recipient refused, a message that cannot be encoded)
fails the row with the reason, for the admin to read; anything else (connection lost, a 4xx)
puts it back in the queue with a backoff and raises, for the task to retry, up to
LEASE_MAX_ATTEMPTS claims.
"""

import hashlib
import logging
import smtplib
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.leases import Lease, lease_claim, lease_fail, lease_finish
from core.stored_text import EMPTY_TEXT, StoredText, stored_gettext
from tenancy.models import Tenant

from .outbox import (
    SEND_CHUNK,
    EmailStatus,
    OutboxEmail,
    email_render_failure,
    emails_render,
    exception_said,
)

logger = logging.getLogger(__name__)

RETRY_BACKOFF = timedelta(minutes=1)  # doubled after each failed attempt


def in_transaction() -> bool:
    """Inside a transaction the code opened (a test case's own wrapping block aside, which
    stands for the autocommit of a real run, as it does for Django's on_commit)."""
    blocks = transaction.get_connection().atomic_blocks
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


def _require_no_transaction() -> None:
    if in_transaction():
        raise RuntimeError("E-mails are sent after the commit, never inside a transaction.")


def message_id(*, tenant_id: int, key: str) -> str:
    """The same Message-ID for every copy of one key (see the window above)."""
    digest = hashlib.sha256(f"{tenant_id}:{key}".encode()).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{digest}@{domain}>"


def outbox_message(email: OutboxEmail) -> EmailMessage:
    """The row as a message: UTF-8 subject, body and names, IDNA domains (Django's encoding)."""
    return EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=list(email.to),
        headers={"Message-ID": message_id(tenant_id=email.tenant_id, key=email.key)},
    )


def _refused(exc: Exception) -> bool:
    """A refusal that sending again would meet again."""
    if isinstance(exc, UnicodeError | ValueError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


def _give_back(lease: Lease, reason: StoredText, now: datetime, **text) -> None:
    """Back to the queue, due again after a backoff that doubles with each attempt; the text
    rendered for this attempt is kept, so that the retry sends the same."""
    delay = RETRY_BACKOFF * 2 ** max(lease.attempt - 1, 0)
    lease.rows().update(
        status=EmailStatus.QUEUED,
        lease_expires_at=None,
        heartbeat_at=None,
        next_attempt_at=now + delay,
        error=reason,
        **text,
    )


def _send_one(smtp, email: OutboxEmail, lease: Lease, text: dict) -> bool:
    """Send one claimed row; `text` is its subject and body when they were rendered now, kept
    in the row with the outcome."""
    _require_no_transaction()
    if not email.body:
        lease_fail(lease, email_render_failure(email))
        return False
    try:
        smtp.send_messages([outbox_message(email)])
    except Exception as exc:
        said = exception_said(exc)
        if _refused(exc):
            logger.warning("E-mail %s refused: %s", email.key, said)
            reason = stored_gettext("The mail server refused it: %(reason)s", reason=said)
            lease_fail(lease, reason, **text)
            return False
        reason = stored_gettext("Sending failed: %(reason)s", reason=said)
        _give_back(lease, reason, timezone.now(), **text)
        raise
    if not lease_finish(lease, status=EmailStatus.SENT, error=EMPTY_TEXT, **text):
        logger.warning("E-mail %s was sent after its lease was taken over", email.key)
    return True


def emails_send(*, tenant: Tenant, ids, now: datetime | None = None) -> int:
    """Send the tenant's owed e-mails among `ids` that no other worker holds, one SMTP
    connection for all; returns how many were sent. Raises when the server cannot be
    reached or drops the connection (what was not sent stays owed)."""
    _require_no_transaction()
    rows = OutboxEmail.objects.for_tenant(tenant)
    owed = list(
        rows.filter(pk__in=list(ids), status__in=[EmailStatus.QUEUED, EmailStatus.SENDING])
        .order_by("pk")
        .only("pk", "tenant_id", "key", "kind", "client_id", "to", "subject", "body", "context")
    )
    if not owed:
        return 0
    rendered = {email.pk for email in emails_render(tenant, owed)}
    sent = 0
    with get_connection(fail_silently=False) as smtp:
        for email in owed:
            lease = lease_claim(OutboxEmail, email.pk, now=now)
            if lease is None:  # sent, failed, or another worker's
                continue
            text = {"subject": email.subject, "body": email.body} if email.pk in rendered else {}
            sent += _send_one(smtp, email, lease, text)
    return sent


def emails_due(*, now: datetime | None = None, limit: int = 50 * SEND_CHUNK) -> dict:
    """What the sweep sends: queued e-mails past their due time (the worker queued at the
    commit never came, or a retry is due) and e-mails whose sender died mid-send (lease
    expired). Returns {tenant_id: [ids]}, oldest first."""
    now = now or timezone.now()
    expired = Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True)
    due = (
        OutboxEmail._base_manager.filter(
            Q(status=EmailStatus.QUEUED, next_attempt_at__lte=now)
            | (Q(status=EmailStatus.SENDING) & expired)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("tenant_id", "pk")[:limit]
    )
    by_tenant: dict[int, list[int]] = {}
    for tenant_id, pk in due:
        by_tenant.setdefault(tenant_id, []).append(pk)
    return by_tenant

"""Webhooks: the business events of a tenant posted to the endpoints its owners register.

Rules and the decisions taken where the product's requirements were silent:
- The outbox is the event table. After a transaction that wrote events commits, a fan-out
  (`webhooks_fan_out`) writes one delivery per matching endpoint and event, set-wise (one query
  per endpoint, one INSERT), and each delivery is sent by a Celery task. Beat's sweep runs the
  same fan-out over the last few minutes, so a fan-out lost with its process is made up; the
  unique (endpoint, event) key makes every fan-out idempotent. Events are delivered as they
  happen: an event recorded with a time before the endpoint became active is not sent.
- A delivery is posted as JSON (the event) with X-Clientdesk-Event, -Delivery (the delivery's
  id, the same on every attempt), -Timestamp (Unix seconds of this attempt) and -Signature:
  `sha256=` and the hex HMAC-SHA256 of `f"{timestamp}.{body}"` with the endpoint's secret.
- Any 2xx answer delivers. Anything else (3xx too: redirects are not followed), a timeout, a
  refused connection or a refused address is a failure, tried again after 30 s, doubling up to
  an hour between tries (settings WEBHOOK_RETRY_*), until 24 hours after the delivery was made;
  then the delivery fails.
- Per endpoint, events of one object are sent in order: a delivery waits while an earlier one
  of the same object (by event id, the order the object's changes were written in) is open.
  Redeliveries stand apart: they neither wait nor hold others back.
- A delivery is a leased record (core/leases.py): the worker that claims it holds it until it
  is finished; a worker killed mid-delivery leaves it running until its lease expires, then the
  lease sweep puts it back and it is sent again with the same delivery id. Receivers must
  deduplicate by X-Clientdesk-Delivery: a delivery may arrive more than once, never zero times.
- An endpoint that has failed for 24 hours without a success in between is disabled (its open
  deliveries fail with it) and the tenant's owners get an e-mail. Turning an endpoint off also
  fails its open deliveries; turning it on again sends events from then on (Redeliver sends an
  old one again).
- Connections go through the outbound address policy (core/outbound_http.py): the URL's host is
  checked when the endpoint is saved (the form says why it is refused) and resolved and checked
  again before every connection.
- The secret is stored encrypted (core/crypto.py) because signing needs it in the clear.
"""

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from core import crypto
from core.languages import in_language, offered, tenant_language
from core.leases import Lease, lease_claim, lease_finish
from core.outbound import OutboundError, check_host
from core.outbound_http import post_checked, url_host_port
from core.stored_text import (
    EMPTY_TEXT,
    StoredText,
    stored_gettext,
    stored_ngettext,
    stored_text_required,
)
from tenancy.models import Membership, Tenant
from tenancy.roles import Role

from . import after_commit
from .models import Event
from .outbox import OwedEmail, emails_enqueue
from .services import event_record
from .webhook_metrics import (
    ENDPOINT_OFF,
    GAVE_UP,
    RETRY,
    webhook_delivered_observed,
    webhook_endpoint_disabled_observed,
    webhook_outcome_observed,
    webhook_try_observed,
)
from .webhook_models import (
    EXCERPT_LENGTH,
    OPEN_STATUSES,
    SECRET_MAX_LENGTH,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

WEBHOOKS_ACTOR = "webhooks"  # the actor of the events the delivery machinery records
SECRET_MIN_LENGTH = 16
FAN_OUT_SWEEP_LOOKBACK = timedelta(minutes=5)
DISPATCH_BATCH = 500
DISPATCH_MAX_BATCHES = 40  # a dispatch queues at most 20,000; the next one goes on
USER_AGENT = "Clientdesk-Webhooks/1"
SAID_MAX = 300  # what a receiver or the system said, kept in a delivery's error


# -- signing ----------------------------------------------------------------------------------
def webhook_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-Clientdesk-Signature value: `sha256=` and the hex HMAC of `timestamp.body`."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def webhook_body(event: Event, tenant: Tenant) -> bytes:
    """The JSON the receiver gets: the event as the audit log holds it, its description in
    the tenant's language and formats and, so that a receiver can render it in its own, as
    the stored message (`description_message`: msgid, plural and count, context, params)."""
    with in_language(None, tenant):
        description = str(event.description)
    document = {
        "id": event.pk,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "tenant": tenant.slug,
        "actor": {"kind": event.actor_kind, "id": event.actor_id, "label": event.actor_label},
        "object": {"type": event.object_type, "id": event.object_id},
        "client_id": event.client_id,
        "description": description,
        "description_message": event.description.to_json(),
        "payload": event.payload,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True, default=str).encode()


# -- endpoints ----------------------------------------------------------------------------------
def webhook_url_check(url: str) -> None:
    """Refuse a URL Clientdesk would not post to: not http(s), no host, credentials in it, or a
    host the outbound address policy refuses (resolved now; checked again at each delivery)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError({"url": _("Enter an http:// or https:// URL with a host name.")})
    if parts.username or parts.password:
        raise ValidationError(
            {"url": _("Put no user name or password in the URL: sign with the secret.")}
        )
    try:
        check_host(*url_host_port(url))
    except OutboundError as error:
        raise ValidationError({"url": error.message}) from None
    except ValueError:  # a port out of range
        raise ValidationError({"url": _("Enter a port from 1 to 65535.")}) from None


def webhook_secret_problem(secret: str) -> str | None:
    """Why `secret` cannot sign deliveries, or None."""
    if not (SECRET_MIN_LENGTH <= len(secret) <= SECRET_MAX_LENGTH):
        return _("Use %(min)s to %(max)s characters.") % {
            "min": SECRET_MIN_LENGTH,
            "max": SECRET_MAX_LENGTH,
        }
    if not secret.isprintable() or any(c.isspace() for c in secret):
        return _("The secret may not contain spaces or control characters.")
    return None


def webhook_secret_check(secret: str) -> None:
    problem = webhook_secret_problem(secret)
    if problem:
        raise ValidationError({"secret": problem})


def webhook_endpoint_create(
    *,
    tenant: Tenant,
    actor,
    url: str,
    secret: str,
    event_types: list[str],
    is_active: bool = True,
    description: str = "",
) -> WebhookEndpoint:
    """Register an endpoint; it receives the events written from now on."""
    webhook_url_check(url)
    webhook_secret_check(secret)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.for_tenant(tenant).create(
            tenant=tenant,
            url=url,
            secret_encrypted=crypto.encrypt(secret),
            event_types=sorted(set(event_types)),
            is_active=is_active,
            description=description,
        )
        event_record(
            tenant=tenant,
            type="webhook_endpoint.created",
            description=stored_gettext("Webhook endpoint %(url)s added.", url=url),
            object_type="webhook_endpoint",
            object_id=endpoint.pk,
            payload={"url": url, "event_types": endpoint.event_types, "active": is_active},
            actor=actor,
        )
    after_commit.forget(tenant)
    return endpoint


def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor,
    url: str,
    event_types: list[str],
    is_active: bool,
    description: str = "",
    secret: str | None = None,
) -> WebhookEndpoint:
    """Change an endpoint; `secret` None keeps the stored one. Turning it on again starts from
    now and clears why it was disabled; turning it off fails its open deliveries."""
    tenant = endpoint.tenant
    if url != endpoint.url:
        webhook_url_check(url)
    if secret is not None:
        webhook_secret_check(secret)
    now = timezone.now()
    with transaction.atomic():
        stored = WebhookEndpoint.objects.for_tenant(tenant).select_for_update().get(pk=endpoint.pk)
        changes = {
            name: [getattr(stored, name), value]
            for name, value in (
                ("url", url),
                ("event_types", sorted(set(event_types))),
                ("is_active", is_active),
                ("description", description),
            )
            if getattr(stored, name) != value
        }
        if secret is not None and secret != stored.secret:
            stored.secret_encrypted = crypto.encrypt(secret)
            changes["secret"] = ["…", "…"]
        if not changes:
            return stored
        for name, (_old, value) in changes.items():
            if name != "secret":
                setattr(stored, name, value)
        if "is_active" in changes and is_active:
            stored.active_since, stored.failing_since = now, None
            stored.disabled_at, stored.disabled_reason = None, EMPTY_TEXT
        stored.updated_at = now
        stored.save()
        if "is_active" in changes and not is_active:
            _fail_open_deliveries(stored, stored_gettext("The endpoint was turned off."), now)
        event_record(
            tenant=tenant,
            type="webhook_endpoint.updated",
            description=stored_gettext("Webhook endpoint %(url)s edited.", url=stored.url),
            object_type="webhook_endpoint",
            object_id=stored.pk,
            payload={"changes": {k: v for k, v in changes.items() if k != "secret"}}
            | ({"secret_changed": True} if "secret" in changes else {}),
            actor=actor,
        )
    after_commit.forget(tenant)
    return stored


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor) -> None:
    """Delete an endpoint with its delivery log."""
    tenant = endpoint.tenant
    with transaction.atomic():
        WebhookDelivery.objects.for_tenant(tenant).filter(endpoint=endpoint).delete()
        WebhookEndpoint.objects.for_tenant(tenant).filter(pk=endpoint.pk).delete()
        event_record(
            tenant=tenant,
            type="webhook_endpoint.deleted",
            description=stored_gettext("Webhook endpoint %(url)s deleted.", url=endpoint.url),
            object_type="webhook_endpoint",
            object_id=endpoint.pk,
            payload={"url": endpoint.url},
            actor=actor,
        )
    after_commit.forget(tenant)


def webhook_redeliver(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send a delivery's event again as a new delivery with an id of its own (the receiver
    tells it from a retry), at once, whatever waits before it."""
    tenant = delivery.tenant
    with transaction.atomic():
        again = WebhookDelivery.objects.for_tenant(tenant).create(
            tenant=tenant,
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            redelivery_of_id=delivery.redelivery_of_id or delivery.pk,
            object_key=delivery.object_key,
            next_attempt_at=timezone.now() + WebhookDelivery.lease_duration(),
        )
        event_record(
            tenant=tenant,
            type="webhook_delivery.redelivered",
            description=stored_gettext(
                "Event %(event)s sent again to %(url)s.",
                event=delivery.event_id,
                url=delivery.endpoint.url,
            ),
            object_type="webhook_endpoint",
            object_id=delivery.endpoint_id,
            payload={"delivery": str(again.delivery_id), "of": str(delivery.delivery_id)},
            actor=actor,
        )
        transaction.on_commit(lambda: _queue_send([(tenant.pk, again.pk)]))
    return again


# -- fan-out and dispatch -------------------------------------------------------------------------
def _undelivered_events(endpoint: WebhookEndpoint, since: datetime):
    already = WebhookDelivery.objects.filter(
        endpoint_id=endpoint.pk, event_id=OuterRef("pk"), redelivery_of__isnull=True
    )
    return (
        Event.objects.for_tenant(endpoint.tenant_id)
        .filter(type__in=endpoint.event_types, created_at__gte=max(since, endpoint.active_since))
        .exclude(Exists(already))
        .order_by("pk")
        .values_list("pk", "object_type", "object_id")
    )


def webhooks_fan_out(*, tenant: Tenant, since: datetime) -> int:
    """Write the deliveries of the tenant's events since `since` to its active endpoints that
    want them and lack them (one query per endpoint, one INSERT), and send them. Returns how
    many were written; a second run writes none."""
    endpoints = list(WebhookEndpoint.objects.for_tenant(tenant).filter(is_active=True))
    now = timezone.now()
    rows = [
        WebhookDelivery(
            tenant_id=tenant.pk,
            endpoint_id=endpoint.pk,
            event_id=event_id,
            object_key=f"{object_type}:{object_id}",
            next_attempt_at=now,
        )
        for endpoint in endpoints
        for event_id, object_type, object_id in _undelivered_events(endpoint, since)
    ]
    if not rows:
        return 0
    with transaction.atomic():
        WebhookDelivery.objects.for_tenant(tenant).bulk_create(
            rows, batch_size=1000, ignore_conflicts=True
        )
    webhooks_dispatch(tenant=tenant)
    return len(rows)


def webhooks_fan_out_sweep(*, now: datetime | None = None) -> int:
    """Beat: the fan-out of the last minutes for every tenant with an active endpoint, making
    up for a fan-out whose process died after its commit."""
    since = (now or timezone.now()) - FAN_OUT_SWEEP_LOOKBACK
    with scopes_disabled():
        tenant_ids = set(
            WebhookEndpoint.objects.filter(is_active=True).values_list("tenant_id", flat=True)
        )
        tenants = Tenant.objects.filter(pk__in=tenant_ids, is_active=True)
        return sum(webhooks_fan_out(tenant=tenant, since=since) for tenant in tenants)


def _earlier_open() -> Exists:
    """An earlier open delivery of the same object to the same endpoint exists."""
    earlier = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        object_key=OuterRef("object_key"),
        event_id__lt=OuterRef("event_id"),
        status__in=OPEN_STATUSES,
        redelivery_of__isnull=True,
    )
    return Exists(earlier)


def _waiting_behind_earlier() -> Q:
    """A first delivery (not a redelivery) that waits for an earlier one of its object."""
    return Q(redelivery_of__isnull=True) & _earlier_open()


def webhooks_dispatch(*, tenant: Tenant | None = None, now: datetime | None = None) -> int:
    """Queue a send for every pending delivery that is due and waits for no earlier one (of
    `tenant`, or of every tenant: beat), DISPATCH_BATCH a transaction. Each is marked as queued
    for the length of a lease, so that the next dispatch does not queue it again unless its
    task was lost; two dispatches at once take different rows (SKIP LOCKED). Returns how many
    were queued."""
    now = now or timezone.now()
    total = 0
    for _batch in range(DISPATCH_MAX_BATCHES):
        queued = _dispatch_batch(tenant, now)
        total += queued
        if queued < DISPATCH_BATCH:
            break
    return total


def _dispatch_batch(tenant: Tenant | None, now: datetime) -> int:
    with scopes_disabled(), transaction.atomic():
        due = WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
        if tenant is not None:
            due = due.filter(tenant_id=tenant.pk)
        due = due.exclude(_waiting_behind_earlier())
        rows = list(
            due.order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "tenant_id")[:DISPATCH_BATCH]
        )
        if not rows:
            return 0
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            next_attempt_at=now + WebhookDelivery.lease_duration()
        )
        queued = [(tenant_id, pk) for pk, tenant_id in rows]
        transaction.on_commit(lambda: _queue_send(queued))
    return len(queued)


def _queue_send(rows) -> None:
    from .tasks import webhook_delivery_send_run  # the tasks module imports this one

    for tenant_id, pk in rows:
        webhook_delivery_send_run.delay(tenant_id, pk)


# -- sending ------------------------------------------------------------------------------------
def webhook_delivery_send(*, tenant: Tenant, delivery_pk: int) -> str:
    """One attempt of one delivery, by the worker that claims it. Returns what happened:
    "delivered", "retry", "failed", or why nothing was sent ("gone", "taken", "waiting")."""
    delivery = (
        WebhookDelivery.objects.for_tenant(tenant)
        .select_related("endpoint", "event")
        .annotate(earlier_open=_earlier_open())
        .filter(pk=delivery_pk)
        .first()
    )
    if delivery is None:
        return "gone"
    if delivery.redelivery_of_id is None and delivery.earlier_open:
        return "waiting"  # sent when the earlier one is done (_send_next_of_object)
    lease = lease_claim(WebhookDelivery, delivery.pk, last_attempt_at=timezone.now())
    if lease is None:
        return "taken"  # finished, or another worker holds it
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        error = stored_gettext("The endpoint is turned off.")
        if _finish(lease, delivery, DeliveryStatus.FAILED, error=error):
            webhook_outcome_observed(ENDPOINT_OFF)
        return "failed"
    started = time.monotonic()
    code, excerpt, error = _post(delivery, endpoint, tenant)
    seconds = time.monotonic() - started
    webhook_try_observed(code=code, seconds=seconds)
    result = {
        "response_code": code,
        "response_excerpt": excerpt,
        "duration_ms": int(seconds * 1000),
    }
    now = timezone.now()
    if code is not None and 200 <= code < 300:
        done = _finish(lease, delivery, DeliveryStatus.DELIVERED, error=EMPTY_TEXT, **result)
        if done:
            webhook_delivered_observed(delivery, now)
        if done and endpoint.failing_since is not None:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return "delivered"
    error = error or stored_gettext("The receiver answered %(code)s.", code=code)
    if now - delivery.created_at >= timedelta(seconds=settings.WEBHOOK_GIVE_UP_SECONDS):
        if _finish(lease, delivery, DeliveryStatus.FAILED, error=error, **result):
            webhook_outcome_observed(GAVE_UP)
        outcome = "failed"
    else:
        retry_at = now + _backoff(lease.attempt)
        retried = lease.rows().update(
            status=DeliveryStatus.PENDING,
            lease_expires_at=None,
            next_attempt_at=retry_at,
            error=error,
            **result,
        )
        webhook_outcome_observed(RETRY, retried)
        outcome = "retry"
    _endpoint_failed(endpoint, now)
    return outcome


def _backoff(attempt: int) -> timedelta:
    """30 s after the first try, doubling, at most an hour (settings)."""
    base, cap = settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS
    return timedelta(seconds=min(cap, base * 2 ** min(max(attempt - 1, 0), 30)))


def said(value) -> str:
    """What the receiver or the system said, as a literal parameter of bounded length."""
    return str(value)[:SAID_MAX]


def _post(delivery: WebhookDelivery, endpoint: WebhookEndpoint, tenant: Tenant):
    """(response code, body excerpt, error): one POST, never raising. The error is a stored
    message (empty when the receiver answered), read in each reader's language."""
    body = webhook_body(delivery.event, tenant)
    timestamp = int(time.time())
    try:
        signature = webhook_signature(endpoint.secret, timestamp, body)
    except crypto.SecretUnreadable:
        return None, "", secret_unreadable_reason()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Clientdesk-Event": delivery.event.type,
        "X-Clientdesk-Delivery": str(delivery.delivery_id),
        "X-Clientdesk-Timestamp": str(timestamp),
        "X-Clientdesk-Signature": signature,
    }
    try:
        answer = post_checked(
            endpoint.url,
            body=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            read_limit=EXCERPT_LENGTH,
        )
    except OutboundError as error:
        return None, "", error.text
    except requests.Timeout:
        seconds = settings.WEBHOOK_TIMEOUT_SECONDS
        return (
            None,
            "",
            stored_ngettext(
                "No answer within %(count)s second.", "No answer within %(count)s seconds.", seconds
            ),
        )
    except (requests.RequestException, OSError) as error:
        reason = said(type(error).__name__)
        return None, "", stored_gettext("The connection failed: %(error)s.", error=reason)
    excerpt = answer.body.decode("utf-8", "replace")[:EXCERPT_LENGTH]
    return answer.status, "".join(c for c in excerpt if c.isprintable() or c in "\n\t"), EMPTY_TEXT


def secret_unreadable_reason() -> StoredText:
    """The endpoint's signing secret cannot be decrypted (the key changed)."""
    return stored_gettext(
        "The stored secret cannot be decrypted: was %(setting)s changed?",
        setting=crypto.ENV_NAME,
    )


def _finish(lease: Lease, delivery: WebhookDelivery, status: str, **changes) -> bool:
    done = lease_finish(lease, status=status, **changes)
    if done:
        _send_next_of_object(delivery)
    return done


def _send_next_of_object(delivery: WebhookDelivery) -> None:
    """The earliest delivery of the same object waiting behind this one is due at once."""
    if delivery.redelivery_of_id is not None:
        return
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            object_key=delivery.object_key,
            status=DeliveryStatus.PENDING,
            redelivery_of__isnull=True,
            event_id__gt=delivery.event_id,
        )
        .order_by("event_id")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        WebhookDelivery.objects.filter(pk=following).update(
            next_attempt_at=timezone.now() + WebhookDelivery.lease_duration()
        )
        _queue_send([(delivery.tenant_id, following)])


def _fail_open_deliveries(endpoint: WebhookEndpoint, reason: StoredText, now: datetime) -> int:
    stored_text_required(reason, what="Why a webhook delivery failed")
    failed = (
        WebhookDelivery.objects.filter(endpoint_id=endpoint.pk, status__in=OPEN_STATUSES)
        .exclude(status=DeliveryStatus.RUNNING, lease_expires_at__gt=now)
        .update(status=DeliveryStatus.FAILED, error=reason, finished_at=now, lease_expires_at=None)
    )
    webhook_outcome_observed(ENDPOINT_OFF, failed)
    return failed


def _endpoint_failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Remember since when the endpoint fails; past WEBHOOK_DISABLE_AFTER_SECONDS, disable it."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    limit = now - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    with transaction.atomic():
        disabled = (
            WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True, failing_since__lte=limit)
            .select_for_update()
            .first()
        )
        if disabled is None:
            return
        webhook_endpoint_disable(endpoint=disabled, now=now)


def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, now: datetime) -> None:
    """Disable an endpoint that kept failing, fail its open deliveries, and tell the owners."""
    hours = settings.WEBHOOK_DISABLE_AFTER_SECONDS // 3600
    reason = stored_ngettext(
        "Every delivery failed for %(count)s hour.",
        "Every delivery failed for %(count)s hours.",
        hours,
    )
    tenant = Tenant.objects.get(pk=endpoint.tenant_id)
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            is_active=False, disabled_at=now, disabled_reason=reason, updated_at=now
        )
        _fail_open_deliveries(endpoint, stored_gettext("The endpoint was disabled."), now)
        event_record(
            tenant=tenant,
            type="webhook_endpoint.disabled",
            description=stored_gettext(
                "Webhook endpoint %(url)s disabled: %(reason)s",
                url=endpoint.url,
                reason=reason,
            ),
            object_type="webhook_endpoint",
            object_id=endpoint.pk,
            payload={"url": endpoint.url, "reason": str(reason)},
            actor_label=WEBHOOKS_ACTOR,
        )
        _tell_owners(tenant, endpoint, reason, now)
        webhook_endpoint_disabled_observed()
    after_commit.forget(tenant)


def _tell_owners(tenant: Tenant, endpoint: WebhookEndpoint, reason: StoredText, now) -> None:
    """Owe the owners an e-mail through the outbox, in the disabling's transaction: sent once
    after the commit, and again by the outbox's sweep if its worker dies."""
    with scopes_disabled():
        owners = Membership.objects.filter(
            tenant=tenant, role=Role.OWNER, is_active=True, user__is_active=True
        ).values_list("user__email", "user__operator_profile__language")
        by_language: dict[str, set[str]] = {}
        for address, language in owners:
            if address:
                code = offered(language) or tenant_language(tenant)
                by_language.setdefault(code, set()).add(address)
    for language, addresses in sorted(by_language.items()):
        # One e-mail per language, each owner's own (else the tenant's); with one language
        # among the owners, one e-mail under the key it always had.
        suffix = "" if len(by_language) == 1 else f":{language}"
        with in_language(language, tenant):
            _tell_owners_in(tenant, endpoint, reason, now, sorted(addresses), suffix)


def _tell_owners_in(
    tenant, endpoint, reason: StoredText, now, recipients: list[str], suffix: str
) -> None:
    """The e-mail to some owners, in the active language (the reason too)."""
    url = endpoint.url
    body = _(
        "Clientdesk disabled the webhook endpoint %(url)s of %(tenant)s.\n\n"
        "%(reason)s Events are no longer sent to it.\n\n"
        "Fix the receiver, then turn the endpoint on again under Webhooks; "
        "Redeliver on its delivery log sends a missed event again."
    ) % {"url": url, "tenant": tenant.name, "reason": str(reason)}
    owed = OwedEmail(
        key=f"webhook-disabled:{endpoint.pk}:{now.isoformat()}{suffix}",
        to=tuple(recipients),
        subject=(_("Webhook endpoint disabled: %(url)s") % {"url": url})[:200],
        body=body,
        kind="webhook_disabled",
    )
    emails_enqueue(tenant=tenant, emails=[owed])

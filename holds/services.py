"""Holds, the client's status from its holds, funds shortfalls and the financial-hold job.

Rules
- Administrative hold: set and released by an operator with MANAGE_HOLDS (manager, owner), with
  a reason. Setting it suspends every active subscription at once; releasing the last hold in
  force returns them to Active, with the days on hold given back unless the tenant turns
  `suspended_days_extend` off (the rule is subscriptions' `subscriptions_resume`, which the
  financial-hold job's bulk release uses too).
- Financial hold: set by the job when available funds (balance + credit limit) have been below
  zero for the tenant's `financial_hold_grace_days`, with the debt as the reason; lifted right
  after the commit of any posting that brings funds to zero or more (holds/receivers.py), and by
  the job for any that was missed. Operators do not release financial holds by hand: they top up
  or raise the credit limit, which lifts it.
- Holds are independent: the client is Active only when none is in force, Administrative hold
  is shown over Financial hold, lifting one leaves the other (and the subscriptions suspended).
- After an expiry run (subscriptions' job; this app listens to its `expiry_done` hook, connected
  in HoldsConfig.ready()): the e-mails of subscriptions expired and about to expire are owed,
  and, with the tenant's `hold_on_failed_renewal`, a client whose auto-renewal failed for want
  of funds goes on financial hold until money comes in.
- Every change is a line of the client's activity with "system" as the actor when no operator
  did it; e-mails (hold set, about to expire, expired) are owed once each (their outbox key)
  and sent by Celery after the commit (events/outbox.py); `client_access_changed` is sent for
  holds and releases (the routers app cuts or restores PPPoE access).

The financial-hold job (registered as "financial_holds" in HoldsConfig.ready(), run through
core/jobs.py: one run per tenant at a time, recorded) is set-based and idempotent: a fixed
number of statements for the whole run, except the bulk inserts of activity lines and e-mails
(one per 2,000 rows); candidate rows are locked with SKIP LOCKED.
"""

import logging
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from billing.models import Account
from clients.extensions import BulkOutcome
from clients.models import Client, ClientStatus
from clients.signals import (
    HOLD_ACCESS_REASON,
    send_client_access_changed,
    send_client_access_changed_later,
)
from core.languages import in_language
from core.sql import array_param, bound_cursor, instance_copy, is_postgresql, scalar_param
from core.stored_text import (
    EMPTY_TEXT,
    Money,
    StoredText,
    label_text,
    literal_text,
    stored_gettext,
    stored_ngettext,
    stored_text_required,
)
from events.outbox import OutboxEmail, OwedEmail, emails_enqueue
from events.services import EventLine, event_record, events_record_bulk
from subscriptions.models import Subscription, SubscriptionStatus
from subscriptions.services import (
    clients_with_active_subscription,
    subscription_resume_all,
    subscription_suspend_all,
    subscriptions_resume,
    subscriptions_suspend,
)
from tenancy.models import Tenant

from .models import ClientHold, FundsShortfall, HoldKind, NotificationKind

logger = logging.getLogger(__name__)

REASON_MAX = 500
SYSTEM = "system"
FINANCIAL_HOLDS_JOB = "financial_holds"  # the registered job (core/jobs.py)
JOB_FINANCIAL = "financial holds"  # who set or lifted a hold, as the hold records it
JOB_RENEWAL = "auto-renewal"
JOB_TOP_UP = "top-up"
BATCH = 2000
ZERO = Decimal("0")

# The figures of the financial-hold job an operator reads on the dashboard, in this order.
FINANCIAL_HOLDS_RESULT_LABELS = {
    "held": gettext_lazy("Put on financial hold:"),
    "released": gettext_lazy("Released:"),
}


def clean_reason(reason, field: str = "reason") -> str:
    """An operator's reason as typed (a form's, the API's, a bulk action's): stripped, required,
    at most REASON_MAX characters."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: _("Give a reason.")}, code="required")
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {
                field: _("Keep the reason to %(max)s characters (it has %(length)s).")
                % {"max": REASON_MAX, "length": len(reason)}
            },
            code="max_length",
        )
    return reason


def operator_reason(reason, field: str = "reason") -> StoredText:
    """An operator's typed reason as a hold stores it: their own words, never translated."""
    return literal_text(clean_reason(reason, field))


def reason_checked(reason) -> StoredText:
    """A reason as a hold stores it: a StoredText (a plain str is refused, TypeError: rendered
    now it would stay in the writer's language), an operator's words cleaned as typed."""
    stored_text_required(reason, what="A hold's reason")
    if reason.literal:
        return operator_reason(reason.msgid)
    return reason


def reason_payload(reason: StoredText) -> dict:
    """A reason in an event's payload, for the audit log and webhooks: its text in the active
    language (the tenant's: `in_language(None, tenant)` around the writer) and its message,
    which a receiver renders in a language of its own."""
    return {"reason": str(reason), "reason_message": reason.to_json()}


# The refusals of a hold and a release, the same for one client and for many.
DELETED_NOT_HELD = gettext_lazy("A deleted client cannot be put on hold.")
ALREADY_ON_HOLD = {
    HoldKind.ADMINISTRATIVE: gettext_lazy("The client is already on administrative hold."),
    HoldKind.FINANCIAL: gettext_lazy("The client is already on financial hold."),
}
NOT_ON_HOLD = {
    HoldKind.ADMINISTRATIVE: gettext_lazy("The client is not on administrative hold."),
    HoldKind.FINANCIAL: gettext_lazy("The client is not on financial hold."),
}
STILL_IN_FORCE = {
    HoldKind.ADMINISTRATIVE: gettext_lazy("administrative hold still in force"),
    HoldKind.FINANCIAL: gettext_lazy("financial hold still in force"),
}


def already_on_hold(kind: str) -> str:
    return str(ALREADY_ON_HOLD[HoldKind(kind)])


def not_on_hold(kind: str) -> str:
    return str(NOT_ON_HOLD[HoldKind(kind)])


# -- status ---------------------------------------------------------------------------------
def status_from_holds(kinds) -> str:
    """The status shown for the kinds of hold in force: administrative over financial."""
    kinds = set(kinds)
    if HoldKind.ADMINISTRATIVE in kinds:
        return ClientStatus.ADMINISTRATIVE_HOLD
    if HoldKind.FINANCIAL in kinds:
        return ClientStatus.FINANCIAL_HOLD
    return ClientStatus.ACTIVE


def _status_expression(tenant: Tenant):
    in_force = ClientHold.objects.for_tenant(tenant).filter(
        client=OuterRef("pk"), lifted_at__isnull=True
    )
    return Case(
        When(
            Exists(in_force.filter(kind=HoldKind.ADMINISTRATIVE)),
            then=Value(ClientStatus.ADMINISTRATIVE_HOLD),
        ),
        When(
            Exists(in_force.filter(kind=HoldKind.FINANCIAL)),
            then=Value(ClientStatus.FINANCIAL_HOLD),
        ),
        default=Value(ClientStatus.ACTIVE),
    )


def clients_refresh_status(*, tenant: Tenant, client_ids) -> int:
    """Set the stored status of these clients from their holds in force (one UPDATE; deleted
    clients stay Deleted). `client_ids` may be a list or a subquery."""
    return (
        Client.objects.for_tenant(tenant)
        .filter(pk__in=client_ids)
        .exclude(status=ClientStatus.DELETED)
        .update(status=_status_expression(tenant))
    )


def clients_reconcile_status(*, tenant: Tenant) -> int:
    """Repair any stored status that disagrees with the holds in force (a safety net run by the
    financial job; it reads only clients with a hold status or a hold in force)."""
    in_force = ClientHold.objects.for_tenant(tenant).filter(lifted_at__isnull=True)
    candidates = Client.objects.for_tenant(tenant).filter(
        Q(status__in=(ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.FINANCIAL_HOLD))
        | Q(pk__in=in_force.values("client_id"))
    )
    return (
        candidates.exclude(status=ClientStatus.DELETED)
        .alias(wanted=_status_expression(tenant))
        .exclude(status=F("wanted"))
        .update(status=_status_expression(tenant))
    )


# -- one client: operators, and the release after a top-up ----------------------------------
def _lock_client(tenant: Tenant, client) -> Client:
    client_id = client if isinstance(client, int) else client.pk
    locked = (
        Client.objects.for_tenant(tenant)
        .select_for_update()
        .select_related("tenant")
        .get(pk=client_id)
    )
    locked.tenant = tenant
    return locked


def _kinds_in_force(tenant: Tenant, client: Client) -> set[str]:
    return set(
        ClientHold.objects.for_tenant(tenant)
        .filter(client=client, lifted_at__isnull=True)
        .values_list("kind", flat=True)
    )


@transaction.atomic
def client_place_hold(
    *,
    tenant: Tenant,
    client: Client,
    reason: StoredText,
    kind: str = HoldKind.ADMINISTRATIVE,
    actor=None,
    job: str = "",
) -> ClientHold:
    """Put a client on hold: a ClientHold in force, every active subscription Suspended, the
    status set, a line in the activity, an e-mail to the client, and access cut.

    `reason` is a StoredText: `literal_text` of an operator's words, else the system's message.
    Refused (ValidationError, nothing changed): empty or too long reason, a deleted client, a
    hold of this kind already in force."""
    reason = reason_checked(reason)
    if kind not in HoldKind.values:
        raise ValueError(f"Unknown hold kind {kind!r}")
    locked = _lock_client(tenant, client)
    if locked.status == ClientStatus.DELETED:
        raise ValidationError(str(DELETED_NOT_HELD), code="deleted")
    kinds = _kinds_in_force(tenant, locked)
    label = HoldKind(kind).label
    if kind in kinds:
        raise ValidationError(already_on_hold(kind), code="already")
    operator = actor if getattr(actor, "is_authenticated", False) else None
    hold = ClientHold.objects.for_tenant(tenant).create(
        tenant=tenant,
        client=locked,
        kind=kind,
        reason=reason,
        set_by=operator,
        set_by_job="" if operator else (job or SYSTEM),
    )
    locked.status = status_from_holds(kinds | {kind})
    locked.save(update_fields=["status", "updated_at"])
    event_record(
        tenant=tenant,
        type="hold.placed",
        client_id=locked.pk,
        object_type="hold",
        object_id=hold.pk,
        actor=operator,
        actor_label="" if operator else SYSTEM,
        description=stored_gettext("%(hold)s set: %(reason)s", hold=label, reason=reason),
        payload=_tenant_hold_payload(tenant, hold.pk, kind, reason, job),
    )
    subscription_suspend_all(
        client=locked, actor=operator, actor_label="" if operator else SYSTEM, reason=label
    )
    notifications_create(
        tenant=tenant,
        rows=[(locked.pk, NotificationKind.HOLD_SET, f"hold:{hold.pk}", None, hold.pk)],
    )
    send_client_access_changed(
        sender="holds", client=locked, access=False, reason=HOLD_ACCESS_REASON
    )
    return hold


# A hold's kind as a sentence names it in passing ("… (financial hold still in force)").
HOLD_IN_SENTENCE = {
    HoldKind.ADMINISTRATIVE: pgettext_lazy("hold in a sentence", "administrative hold"),
    HoldKind.FINANCIAL: pgettext_lazy("hold in a sentence", "financial hold"),
}


def _hold_payload(hold_id: int, kind: str, reason: StoredText, job: str) -> dict:
    """The payload of a hold's event; made within `in_language(None, tenant)`, so that its
    reason is in the tenant's language (`reason_payload`)."""
    return {"hold": hold_id, "kind": kind, **reason_payload(reason), "job": job}


def _tenant_hold_payload(tenant: Tenant, *args) -> dict:
    """`_hold_payload` of one hold, in the tenant's language."""
    with in_language(None, tenant):
        return _hold_payload(*args)


def _released_description(label, reason, remaining) -> StoredText:
    """A released hold's activity line, naming the hold still in force if one is."""
    if remaining:
        return stored_gettext(
            "%(hold)s released: %(reason)s (%(other)s still in force)",
            hold=label,
            reason=reason,
            other=HOLD_IN_SENTENCE[HoldKind(next(iter(remaining)))],
        )
    return stored_gettext("%(hold)s released: %(reason)s", hold=label, reason=reason)


@transaction.atomic
def client_release_hold(
    *,
    tenant: Tenant,
    client: Client,
    reason: StoredText,
    kind: str = HoldKind.ADMINISTRATIVE,
    actor=None,
    job: str = "",
) -> ClientHold:
    """Lift the client's hold of `kind`. When no other hold is in force, the suspended
    subscriptions become Active again (with the days on hold given back, unless the tenant
    says otherwise) and access is restored; otherwise they stay suspended. `reason` is a
    StoredText, as `client_place_hold` takes it."""
    reason = reason_checked(reason)
    locked = _lock_client(tenant, client)
    hold = (
        ClientHold.objects.for_tenant(tenant)
        .select_for_update()
        .filter(client=locked, kind=kind, lifted_at__isnull=True)
        .first()
    )
    label = HoldKind(kind).label
    if hold is None:
        raise ValidationError(not_on_hold(kind), code="not_on_hold")
    operator = actor if getattr(actor, "is_authenticated", False) else None
    hold.lifted_at = timezone.now()
    hold.lifted_by = operator
    hold.lifted_by_job = "" if operator else (job or SYSTEM)
    hold.lift_reason = reason
    hold.save(update_fields=["lifted_at", "lifted_by", "lifted_by_job", "lift_reason"])
    remaining = _kinds_in_force(tenant, locked)
    if locked.status != ClientStatus.DELETED:
        locked.status = status_from_holds(remaining)
        locked.save(update_fields=["status", "updated_at"])
    event_record(
        tenant=tenant,
        type="hold.released",
        client_id=locked.pk,
        object_type="hold",
        object_id=hold.pk,
        actor=operator,
        actor_label="" if operator else SYSTEM,
        description=_released_description(label, reason, remaining),
        payload=_tenant_hold_payload(tenant, hold.pk, kind, reason, job),
    )
    if not remaining:
        subscription_resume_all(
            client=locked, actor=operator, actor_label="" if operator else SYSTEM
        )
        send_client_access_changed(
            sender="holds",
            client=locked,
            access=bool(clients_with_active_subscription(tenant=tenant, client_ids=[locked.pk])),
            reason="hold_released",
        )
    return hold


# -- access: this app alone sends client_access_changed -------------------------------------
def access_follow_subscriptions(*, tenant: Tenant, client_ids, active: bool, reason: str) -> int:
    """subscriptions' `subscriptions_changed` (after its commit): access follows the
    subscriptions, except that a client on hold (or deleted) is given none. Returns how many
    clients were told."""
    clients = Client.objects.for_tenant(tenant).filter(pk__in=list(client_ids))
    if active:
        clients = clients.filter(status=ClientStatus.ACTIVE)
    if len(client_ids) == 1:  # an operator's purchase or cancellation: tell the router now
        told = list(clients)
        for client in told:
            send_client_access_changed(sender="holds", client=client, access=active, reason=reason)
        return len(told)
    told = list(clients.values_list("pk", flat=True))
    send_client_access_changed_later(
        sender="holds", tenant=tenant, client_ids=told, access=active, reason=reason
    )
    return len(told)


def access_cut_for_deleted(*, client: Client) -> None:
    """clients' `client_deleted` (after its commit): a deleted client has no service."""
    send_client_access_changed(sender="holds", client=client, access=False, reason="client_deleted")


def access_cut_for_deleted_many(*, tenant: Tenant, client_ids) -> None:
    """clients' `clients_deleted` (after its commit): as `access_cut_for_deleted`, for a
    chunk of clients, from Celery tasks."""
    send_client_access_changed_later(
        sender="holds", tenant=tenant, client_ids=client_ids, access=False, reason="client_deleted"
    )


def financial_holds_release_if_funded(*, tenant: Tenant, client_ids) -> int:
    """billing's `funds_changed_committed` for a chunk: lift the financial holds of those of
    these clients that have one in force and whose funds are back at zero or more; one query
    for the chunk when none has. Returns how many were lifted."""
    held = ClientHold.objects.for_tenant(tenant).filter(
        client_id__in=list(client_ids), kind=HoldKind.FINANCIAL, lifted_at__isnull=True
    )
    return sum(
        financial_hold_release_if_funded(tenant=tenant, client_id=client_id)
        for client_id in sorted(set(held.values_list("client_id", flat=True)))
    )


def financial_hold_release_if_funded(*, tenant: Tenant, client_id: int) -> bool:
    """Lift the client's financial hold when available funds are zero or more (called right
    after a posting that brought money in). Returns whether a hold was lifted. Never raises:
    the posting has committed already, and the financial job lifts any hold missed here."""
    try:
        return _financial_hold_release_if_funded(tenant=tenant, client_id=client_id)
    except Exception:
        logger.exception("Lifting the financial hold of client %s failed", client_id)
        return False


def _financial_hold_release_if_funded(*, tenant: Tenant, client_id: int) -> bool:
    holds = ClientHold.objects.for_tenant(tenant)
    if not holds.filter(
        client_id=client_id, kind=HoldKind.FINANCIAL, lifted_at__isnull=True
    ).exists():
        return False
    with transaction.atomic():
        client = _lock_client(tenant, client_id)
        account = Account.objects.for_tenant(tenant).filter(client_id=client_id).first()
        if account is None or account.available < ZERO:
            return False
        if not holds.filter(
            client_id=client_id, kind=HoldKind.FINANCIAL, lifted_at__isnull=True
        ).exists():
            return False
        client_release_hold(
            tenant=tenant,
            client=client,
            kind=HoldKind.FINANCIAL,
            reason=stored_gettext(
                "Funds back to %(amount)s", amount=Money(account.available, tenant.currency)
            ),
            job=JOB_TOP_UP,
        )
    return True


# -- e-mails and access, owed by the jobs ---------------------------------------------------
def notifications_create(*, tenant: Tenant, rows) -> list[int]:
    """Owe e-mails: rows of (client_id, kind, key, subscription_id, hold_id), written to the
    outbox in the caller's transaction without their text, which the sender renders after the
    commit (holds/notifications.py `notices_render`); sent once per key. Keys already owed
    are left as they are; clients without an e-mail address are left out."""
    rows = list(rows)
    owed = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        addresses = dict(
            Client.objects.for_tenant(tenant)
            .exclude(email="")
            .filter(pk__any={r[0] for r in chunk})
            .values_list("pk", "email")
        )
        emails = [
            OwedEmail(
                key=key,
                kind=kind,
                client_id=client_id,
                to=(addresses[client_id],),
                context=_notice_context(subscription_id, hold_id),
            )
            for client_id, kind, key, subscription_id, hold_id in chunk
            if client_id in addresses
        ]
        owed += emails_enqueue(tenant=tenant, emails=emails)
    return owed


def _notice_context(subscription_id: int | None, hold_id: int | None) -> dict:
    context = {"subscription": subscription_id, "hold": hold_id}
    return {name: pk for name, pk in context.items() if pk}


# -- holds in bulk (the jobs) ---------------------------------------------------------------
def _hold_of(shared: ClientHold, client_id: int, reason: StoredText) -> ClientHold:
    """One client's new hold: a copy of what the chunk's holds share (a fraction of a model's
    construction, ten thousand times in a bulk hold)."""
    hold = instance_copy(shared)
    hold.client_id, hold.reason = client_id, reason_checked(reason)
    return hold


def _holds_place_bulk(
    tenant: Tenant,
    reasons: dict[int, StoredText],
    *,
    kind: str,
    job: str,
    now: datetime,
    operator=None,
    already_excluded: bool = False,
) -> list[int]:
    """Put these clients (locked by the caller) on hold, by a job or an operator; returns the
    clients held. Each client already on a hold of this kind is left out (the caller that
    left them out itself says so: `already_excluded`)."""
    holds = ClientHold.objects.for_tenant(tenant)
    already = set()
    if not already_excluded:
        already = set(
            holds.filter(
                client_id__in=list(reasons), kind=kind, lifted_at__isnull=True
            ).values_list("client_id", flat=True)
        )
    shared = ClientHold(
        tenant=tenant, kind=kind, set_by=operator, set_by_job="" if operator else job, set_at=now
    )
    new = [
        _hold_of(shared, client_id, reason)
        for client_id, reason in reasons.items()
        if client_id not in already
    ]
    if not new:
        return []
    created = _holds_insert(tenant, new)
    client_ids = [h.client_id for h in created]
    suspended = subscriptions_suspend(tenant=tenant, client_ids=client_ids, now=now)
    if kind == HoldKind.ADMINISTRATIVE:  # shown over any other: no need to read the others
        _clients_set_status(tenant, client_ids, status_from_holds({kind}), now)
    else:
        clients_refresh_status(tenant=tenant, client_ids=client_ids)
    label = label_text(HoldKind(kind).label)  # stored once, not once per client
    lines = []
    with in_language(None, tenant):  # the payloads' reasons in the tenant's language
        for hold in created:
            lines.append(
                EventLine(
                    type="hold.placed",
                    client_id=hold.client_id,
                    description=stored_gettext(
                        "%(hold)s set: %(reason)s", hold=label, reason=hold.reason
                    ),
                    payload=_hold_payload(hold.pk, kind, hold.reason, job),
                    object_type="hold",
                    object_id=hold.pk,
                    actor=operator,
                )
            )
            if suspended[hold.client_id]:
                lines.append(
                    EventLine(
                        type="subscription.suspended",
                        client_id=hold.client_id,
                        description=stored_ngettext(
                            "%(count)s subscription suspended: %(reason)s",
                            "%(count)s subscriptions suspended: %(reason)s",
                            suspended[hold.client_id],
                            reason=label,
                        ),
                        payload={"count": suspended[hold.client_id]},
                        actor=operator,
                    )
                )
    events_record_bulk(tenant=tenant, lines=lines)
    notifications_create(
        tenant=tenant,
        rows=[
            (h.client_id, NotificationKind.HOLD_SET, f"hold:{h.pk}", None, h.pk) for h in created
        ],
    )
    send_client_access_changed_later(
        sender="holds",
        tenant=tenant,
        client_ids=client_ids,
        access=False,
        reason=HOLD_ACCESS_REASON,
    )
    return client_ids


HOLD_TABLE = ClientHold._meta.db_table
CLIENT_TABLE = Client._meta.db_table
# The reasons are bound as a jsonb array of their JSON texts; a hold in force has no lift
# reason yet (the JSON empty string, as the column's default).
_HOLD_INSERT_SQL = (
    f"INSERT INTO {HOLD_TABLE} (tenant_id, client_id, kind, reason, set_by_id, set_by_job, "  # noqa: S608 - names are ours
    "set_at, lifted_by_job, lift_reason) "
    f"SELECT %s, c, %s, r, %s, %s, %s, '', {scalar_param('jsonb')} "
    f"FROM unnest({array_param('bigint')}, {array_param('jsonb')}) AS t(c, r) "
    "RETURNING id, client_id"
)


def _holds_insert(tenant: Tenant, new: list[ClientHold]) -> list[ClientHold]:
    """Insert holds of one kind, by one setter, at one time (a chunk's): on PostgreSQL one
    statement with the clients and reasons as arrays bound on the server (core/sql.py), which
    costs a fraction of a thousand rows of parameters; elsewhere the ORM's bulk insert."""
    if not is_postgresql():
        return ClientHold.objects.for_tenant(tenant).bulk_create(new, batch_size=BATCH)
    first = new[0]
    with bound_cursor() as cursor:
        cursor.execute(
            _HOLD_INSERT_SQL,
            [
                tenant.pk,
                first.kind,
                first.set_by_id,
                first.set_by_job,
                first.set_at,
                EMPTY_TEXT.to_json_text(),
                [h.client_id for h in new],
                [h.reason.to_json_text() for h in new],
            ],
        )
        ids = {client_id: pk for pk, client_id in cursor.fetchall()}
    for hold in new:
        hold.pk = ids[hold.client_id]
    return new


def _clients_set_status(tenant: Tenant, client_ids: list[int], status: str, now) -> None:
    """One UPDATE of the status of these clients (deleted ones stay Deleted)."""
    if not is_postgresql():
        Client.objects.for_tenant(tenant).filter(pk__in=client_ids).exclude(
            status=ClientStatus.DELETED
        ).update(status=status, updated_at=now)
        return
    with bound_cursor() as cursor:
        cursor.execute(
            f"UPDATE {CLIENT_TABLE} SET status = %s, updated_at = %s "  # noqa: S608 - ours
            f"WHERE tenant_id = %s AND id = ANY({array_param('bigint')}) AND status <> %s",
            [status, now, tenant.pk, client_ids, ClientStatus.DELETED],
        )


def _holds_release_bulk(
    tenant: Tenant,
    hold_ids: list[int],
    *,
    job: str,
    reasons: dict[int, StoredText],
    now: datetime,
    operator=None,
    lift_reason: StoredText | None = None,
) -> list[int]:
    """Lift these holds, by a job or an operator; clients left without a hold get their
    subscriptions back. `reasons` name each client's release in its activity line; the holds
    keep `lift_reason`, else "Funds back to zero or more"."""
    back_to_zero = stored_gettext("Funds back to zero or more")
    holds = ClientHold.objects.for_tenant(tenant)
    # Lock the clients first (the order an operator's hold and the top-up release use), skipping
    # those locked elsewhere (the next run gets them); then read the holds again.
    candidates = holds.filter(pk__in=hold_ids).values_list("client_id", flat=True)
    locked = list(
        Client.objects.for_tenant(tenant)
        .filter(pk__in=list(candidates))
        .order_by("pk")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    rows = list(
        holds.filter(pk__in=hold_ids, client_id__in=locked, lifted_at__isnull=True).values_list(
            "pk", "client_id", "kind"
        )
    )
    if not rows:
        return []
    holds.filter(pk__in=[r[0] for r in rows]).update(
        lifted_at=now,
        lifted_by=operator,
        lifted_by_job="" if operator else job,
        lift_reason=reason_checked(lift_reason or back_to_zero),
    )
    client_ids = [r[1] for r in rows]
    still_held = set(
        holds.filter(client_id__in=client_ids, lifted_at__isnull=True).values_list(
            "client_id", flat=True
        )
    )
    free = [c for c in client_ids if c not in still_held]
    resumed = subscriptions_resume(tenant=tenant, client_ids=free, now=now)
    clients_refresh_status(tenant=tenant, client_ids=client_ids)
    lines = []
    with in_language(None, tenant):  # the payloads' reasons in the tenant's language
        for pk, client_id, kind in rows:
            reason = reasons.get(client_id, back_to_zero)
            lines.append(
                EventLine(
                    type="hold.released",
                    client_id=client_id,
                    description=_released_description(HoldKind(kind).label, reason, ()),
                    payload=_hold_payload(pk, kind, reason, job),
                    object_type="hold",
                    object_id=pk,
                    actor=operator,
                )
            )
            if resumed[client_id]:
                lines.append(
                    EventLine(
                        type="subscription.resumed",
                        client_id=client_id,
                        description=stored_ngettext(
                            "%(count)s subscription active again",
                            "%(count)s subscriptions active again",
                            resumed[client_id],
                        ),
                        payload={"count": resumed[client_id]},
                        actor=operator,
                    )
                )
    events_record_bulk(tenant=tenant, lines=lines)
    send_client_access_changed_later(
        sender="holds",
        tenant=tenant,
        client_ids=clients_with_active_subscription(tenant=tenant, client_ids=free),
        access=True,
        reason="hold_released",
    )
    return client_ids


# -- holds in bulk (an operator's selection of the client list) --------------------------------
def _lock_clients(tenant: Tenant, client_ids) -> list[tuple[int, str]]:
    """(id, status) of these clients, locked in id order, the order every writer locks them."""
    return list(
        Client.objects.for_tenant(tenant)
        .filter(pk__any=list(client_ids))
        .order_by("pk")
        .select_for_update()
        .values_list("pk", "status")
    )


def _holds_in_force(tenant: Tenant, client_ids, kind: str) -> dict[int, int]:
    """Client id -> id of its hold of `kind` in force."""
    return dict(
        ClientHold.objects.for_tenant(tenant)
        .filter(client_id__any=list(client_ids), kind=kind, lifted_at__isnull=True)
        .values_list("client_id", "pk")
    )


@transaction.atomic
def clients_place_hold(
    *, tenant: Tenant, actor, client_ids, reason: StoredText, kind: str = HoldKind.ADMINISTRATIVE
) -> BulkOutcome:
    """`client_place_hold` for many clients at once (a chunk of a bulk action), with its rules
    and refusals: a deleted client, or one already on this hold, is refused with the single
    action's message; the others are held with the same records (hold, status, suspended
    subscriptions, activity line, e-mail, access cut). A fixed number of statements for the
    chunk, however many clients it has. `reason` is a StoredText, as the single action's."""
    reason = reason_checked(reason)
    outcome = BulkOutcome()
    locked = _lock_clients(tenant, client_ids)
    already = _holds_in_force(tenant, [pk for pk, _ in locked], kind)
    wanted = {}
    for pk, status in locked:
        if status == ClientStatus.DELETED:
            outcome.refused[pk] = DELETED_NOT_HELD
        elif pk in already:
            outcome.refused[pk] = ALREADY_ON_HOLD[HoldKind(kind)]
        else:
            wanted[pk] = reason
    operator = actor if getattr(actor, "is_authenticated", False) else None
    outcome.done = _holds_place_bulk(
        tenant,
        wanted,
        kind=kind,
        job=SYSTEM,
        now=timezone.now(),
        operator=operator,
        already_excluded=True,
    )
    return outcome


@transaction.atomic
def clients_release_hold(
    *, tenant: Tenant, actor, client_ids, reason: StoredText, kind: str = HoldKind.ADMINISTRATIVE
) -> BulkOutcome:
    """`client_release_hold` for many clients at once: a client not on this hold is refused
    with the single action's message; the others are released as one would be (subscriptions
    back and access restored when no other hold is in force)."""
    reason = reason_checked(reason)
    outcome = BulkOutcome()
    locked = _lock_clients(tenant, client_ids)
    in_force = _holds_in_force(tenant, [pk for pk, _ in locked], kind)
    for pk, __ in locked:
        if pk not in in_force:
            outcome.refused[pk] = NOT_ON_HOLD[HoldKind(kind)]
    operator = actor if getattr(actor, "is_authenticated", False) else None
    outcome.done = _holds_release_bulk(
        tenant,
        list(in_force.values()),
        job=SYSTEM,
        reasons=dict.fromkeys(in_force, reason),
        now=timezone.now(),
        operator=operator,
        lift_reason=reason,
    )
    return outcome


# -- the financial holds job ----------------------------------------------------------------
def _shortfall_reconcile(tenant: Tenant, now: datetime) -> tuple[int, int]:
    """Two statements: start tracking accounts below zero that no receiver saw go there, and
    stop tracking those back at zero or more."""
    available = F("balance") + F("credit_limit")
    accounts = Account.objects.for_tenant(tenant)
    tracked = FundsShortfall.objects.for_tenant(tenant)
    gone = tracked.filter(
        Exists(accounts.filter(client_id=OuterRef("client_id")).alias(a=available).filter(a__gte=0))
    ).delete()[0]
    table = FundsShortfall._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, client_id, since) "  # noqa: S608 - names are ours
            f"SELECT a.tenant_id, a.client_id, %s FROM {Account._meta.db_table} a "
            f"WHERE a.tenant_id = %s AND a.balance + a.credit_limit < 0 "
            f"AND NOT EXISTS (SELECT 1 FROM {table} s WHERE s.client_id = a.client_id)",
            [now, tenant.pk],
        )
        added = cursor.rowcount
    return added, gone


def financial_holds_run(*, tenant: Tenant, now: datetime | None = None) -> dict:
    """Put on financial hold every client whose funds have been below zero for the grace
    period, and lift the debt holds of clients whose funds are back at zero or more."""
    now = now or timezone.now()
    with transaction.atomic():
        added, gone = _shortfall_reconcile(tenant, now)
        deadline = now - timedelta(days=tenant.financial_hold_grace_days)
        in_force = ClientHold.objects.for_tenant(tenant).filter(
            client_id=OuterRef("pk"), kind=HoldKind.FINANCIAL, lifted_at__isnull=True
        )
        due = list(
            Client.objects.for_tenant(tenant)
            .exclude(status=ClientStatus.DELETED)
            .filter(funds_shortfall__since__lte=deadline)
            .filter(~Exists(in_force))
            .alias(a=F("account__balance") + F("account__credit_limit"))
            .filter(a__lt=0)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list(
                "pk", "account__balance", "account__credit_limit", "funds_shortfall__since"
            )
        )
        currency = tenant.currency
        reasons = {
            pk: stored_gettext(
                "Debt: available funds %(amount)s (below zero since %(since)s)",
                amount=Money(balance + limit, currency),
                since=since,
            )
            for pk, balance, limit, since in due
        }
        held = _holds_place_bulk(
            tenant, reasons, kind=HoldKind.FINANCIAL, job=JOB_FINANCIAL, now=now
        )
        funded = list(
            ClientHold.objects.for_tenant(tenant)
            .filter(kind=HoldKind.FINANCIAL, lifted_at__isnull=True, set_by_job=JOB_FINANCIAL)
            .alias(a=F("client__account__balance") + F("client__account__credit_limit"))
            .filter(a__gte=0)
            .values_list(
                "pk", "client_id", "client__account__balance", "client__account__credit_limit"
            )
        )
        released = _holds_release_bulk(
            tenant,
            [r[0] for r in funded],
            job=JOB_FINANCIAL,
            reasons={
                c: stored_gettext("Funds back to %(amount)s", amount=Money(b + lim, currency))
                for __, c, b, lim in funded
            },
            now=now,
        )
        repaired = clients_reconcile_status(tenant=tenant)
    return {
        "held": len(held),
        "released": len(released),
        "newly_negative": added,
        "back_to_zero": gone,
        "statuses_repaired": repaired,
    }


# -- after an expiry run (subscriptions' `expiry_done` hook) ---------------------------------
def expiry_follow_up(
    *, tenant: Tenant, now: datetime, today: date, expired: list[tuple], failed_renewals: dict
) -> dict:
    """Owe the e-mails of the subscriptions the run expired and of those about to expire
    (once each), and put on financial hold the clients whose auto-renewal failed for want of
    funds when the tenant wants it. Returns the run's figures for these."""
    notifications_create(
        tenant=tenant,
        rows=[(c, NotificationKind.EXPIRED, f"expired:{s}", s, None) for s, c, _, _ in expired],
    )
    held = _holds_for_failed_renewals(tenant, failed_renewals, now=now)
    expiring = list(
        Subscription.objects.for_tenant(tenant)
        .filter(
            status=SubscriptionStatus.ACTIVE,
            end_date__gt=today,
            end_date__lte=today + timedelta(days=tenant.expiring_window_days),
            client__email__gt="",
        )
        .filter(
            ~Exists(
                OutboxEmail.objects.for_tenant(tenant).filter(
                    key=Concat(Value("expiring:"), Cast(OuterRef("pk"), CharField()))
                )
            )
        )
        .values_list("pk", "client_id")
    )
    notifications_create(
        tenant=tenant,
        rows=[(c, NotificationKind.EXPIRING, f"expiring:{s}", s, None) for s, c in expiring],
    )
    return {"financial_holds": held, "expiring_notices": len(expiring)}


def _holds_for_failed_renewals(tenant: Tenant, failed: dict, *, now: datetime) -> int:
    if not tenant.hold_on_failed_renewal or not failed:
        return 0
    locked = set(
        Client.objects.for_tenant(tenant)
        .filter(pk__in=list(failed))
        .exclude(status=ClientStatus.DELETED)
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    reasons = {
        client_id: stored_gettext(
            "Auto-renewal of %(packages)s failed: not enough funds", packages=list(packages)
        )
        for client_id, packages in failed.items()
        if client_id in locked
    }
    return len(
        _holds_place_bulk(tenant, reasons, kind=HoldKind.FINANCIAL, job=JOB_RENEWAL, now=now)
    )

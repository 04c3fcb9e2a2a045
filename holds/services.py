"""Holds, and the two scheduled jobs (financial holds; expiry and auto-renewal).

Rules
- Administrative hold: set and released by an operator with MANAGE_HOLDS (manager, owner), with
  a reason. Setting it suspends every active subscription at once; releasing the last hold in
  force returns them to Active. Days on hold are given back (each end date moves on by the whole
  days it was suspended) unless the tenant turns `suspended_days_extend` off.
- Financial hold: set by the job when available funds (balance + credit limit) have been below
  zero for the tenant's `financial_hold_grace_days`, with the debt as the reason; lifted right
  after the commit of any posting that brings funds to zero or more (holds/receivers.py), and by
  the job for any that was missed. Operators do not release financial holds by hand: they top up
  or raise the credit limit, which lifts it.
- Holds are independent: the client is Active only when none is in force, Administrative hold
  is shown over Financial hold, lifting one leaves the other (and the subscriptions suspended).
- Expiry: an active subscription whose end date (exclusive, in the tenant's time zone) is today
  or earlier expires. With auto-renew, the next period (from the old end date) is bought first,
  through the ledger with the key "sub-renewal:<previous subscription id>", when funds allow;
  else it expires and, with the tenant's `hold_on_failed_renewal`, the client goes on financial
  hold until money comes in. A package taken off sale still renews (the client keeps what they
  have). While a client is on hold its subscriptions are Suspended and do not expire, unless the
  tenant does not give days back: then a suspended period expires when its end date passes.
- Every change is a line of the client's activity with "system" as the actor when no operator
  did it; e-mails (hold set, about to expire, expired) are owed once each (Notification.key) and
  sent by Celery after the commit; `client_access_changed` is sent for holds, releases, expiry
  and renewal (the routers app cuts or restores PPPoE access).

Jobs are per tenant, set-based and idempotent: a fixed number of statements for the whole
run, except the bulk inserts of activity lines and e-mails (one per 2,000 rows) and renewals
that charge money (each in its own short transaction, per subscription). One run per job and
tenant at a time (a PostgreSQL advisory lock; a second worker records nothing and returns),
candidate rows are locked with SKIP LOCKED, and the ledger's idempotency keys make a renewal
charge at most once even if two renewals of one period were attempted.
"""

import logging
import time
import traceback
import zlib
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.utils import timezone

from billing.models import Account, EntryKind
from billing.services import InsufficientFunds, account_charge, account_for_client
from clients.models import Client, ClientActivity, ClientStatus
from clients.services import activity_record
from clients.signals import send_client_access_changed
from core.formatting import format_date, format_datetime
from core.leases import lease_create, lease_fail, lease_finish, leases_fail_running
from subscriptions.models import Package, Subscription, SubscriptionStatus, tenant_today
from subscriptions.services import subscription_resume_all, subscription_suspend_all
from tenancy.models import Tenant

from .models import (
    ClientHold,
    FundsShortfall,
    HoldKind,
    JobName,
    JobRun,
    JobStatus,
    Notification,
    NotificationKind,
)

logger = logging.getLogger(__name__)

REASON_MAX = 500
SYSTEM = "system"
JOB_FINANCIAL = "financial holds"
JOB_RENEWAL = "auto-renewal"
JOB_TOP_UP = "top-up"
BATCH = 2000
FANOUT_CHUNK = 500
ZERO = Decimal("0")
MAX_RENEWAL_ERRORS = 100  # past this many failed renewals in a run, something is wrong: stop
JOB_RUNS_KEPT = timedelta(days=30)  # older runs are deleted by the next run of the job


def _money(value) -> str:
    return f"{value:,.2f}"


def clean_reason(reason, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: "Give a reason."}, code="required")
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {field: f"Keep the reason to {REASON_MAX} characters (it has {len(reason)})."},
            code="max_length",
        )
    return reason


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


def _has_active_subscription(tenant: Tenant, client: Client) -> bool:
    return (
        Subscription.objects.for_tenant(tenant)
        .filter(client=client, status=SubscriptionStatus.ACTIVE)
        .exists()
    )


@transaction.atomic
def client_place_hold(
    *,
    tenant: Tenant,
    client: Client,
    reason: str,
    kind: str = HoldKind.ADMINISTRATIVE,
    actor=None,
    job: str = "",
) -> ClientHold:
    """Put a client on hold: a ClientHold in force, every active subscription Suspended, the
    status set, a line in the activity, an e-mail to the client, and access cut.

    Refused (ValidationError, nothing changed): empty or too long reason, a deleted client, a
    hold of this kind already in force."""
    reason = clean_reason(reason)
    if kind not in HoldKind.values:
        raise ValueError(f"Unknown hold kind {kind!r}")
    locked = _lock_client(tenant, client)
    if locked.status == ClientStatus.DELETED:
        raise ValidationError("A deleted client cannot be put on hold.", code="deleted")
    kinds = _kinds_in_force(tenant, locked)
    label = HoldKind(kind).label
    if kind in kinds:
        raise ValidationError(f"The client is already on {label.lower()}.", code="already")
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
    activity_record(
        tenant=tenant,
        client=locked,
        actor=operator,
        actor_label="" if operator else SYSTEM,
        verb="hold_set",
        description=f"{label} set: {reason}",
        data={"hold": hold.pk, "kind": kind, "job": job},
    )
    subscription_suspend_all(
        client=locked, actor=operator, actor_label="" if operator else SYSTEM, reason=label
    )
    notifications_create(
        tenant=tenant,
        rows=[(locked.pk, NotificationKind.HOLD_SET, f"hold:{hold.pk}", None, hold.pk)],
    )
    send_client_access_changed(sender="holds", client=locked, access=False, reason="hold_set")
    return hold


@transaction.atomic
def client_release_hold(
    *,
    tenant: Tenant,
    client: Client,
    reason: str,
    kind: str = HoldKind.ADMINISTRATIVE,
    actor=None,
    job: str = "",
) -> ClientHold:
    """Lift the client's hold of `kind`. When no other hold is in force, the suspended
    subscriptions become Active again (with the days on hold given back, unless the tenant
    says otherwise) and access is restored; otherwise they stay suspended."""
    reason = clean_reason(reason)
    locked = _lock_client(tenant, client)
    hold = (
        ClientHold.objects.for_tenant(tenant)
        .select_for_update()
        .filter(client=locked, kind=kind, lifted_at__isnull=True)
        .first()
    )
    label = HoldKind(kind).label
    if hold is None:
        raise ValidationError(f"The client is not on {label.lower()}.", code="not_on_hold")
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
    activity_record(
        tenant=tenant,
        client=locked,
        actor=operator,
        actor_label="" if operator else SYSTEM,
        verb="hold_released",
        description=f"{label} released: {reason}"
        + (
            f" ({HoldKind(next(iter(remaining))).label.lower()} still in force)"
            if remaining
            else ""
        ),
        data={"hold": hold.pk, "kind": kind, "job": job},
    )
    if not remaining:
        subscription_resume_all(
            client=locked,
            actor=operator,
            actor_label="" if operator else SYSTEM,
            extend=tenant.suspended_days_extend,
        )
        send_client_access_changed(
            sender="holds",
            client=locked,
            access=_has_active_subscription(tenant, locked),
            reason="hold_released",
        )
    return hold


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
            reason=f"Funds back to {_money(account.available)} {tenant.currency}",
            job=JOB_TOP_UP,
        )
    return True


# -- e-mails and access, owed by the jobs ---------------------------------------------------
def notifications_create(*, tenant: Tenant, rows) -> list[int]:
    """Owe e-mails: rows of (client_id, kind, key, subscription_id, hold_id). Keys already owed
    are skipped (each e-mail once). Clients without an e-mail address are left out. The sending
    is queued after the commit, in chunks."""
    rows = list(rows)
    if not rows:
        return []
    notifications = Notification.objects.for_tenant(tenant)
    created = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        with_email = set(
            Client.objects.for_tenant(tenant)
            .filter(pk__in=[r[0] for r in chunk])
            .exclude(email="")
            .values_list("pk", flat=True)
        )
        objs = [
            Notification(
                tenant=tenant,
                client_id=client_id,
                kind=kind,
                key=key,
                subscription_id=subscription_id,
                hold_id=hold_id,
            )
            for client_id, kind, key, subscription_id, hold_id in chunk
            if client_id in with_email
        ]
        if not objs:
            continue
        keys = [o.key for o in objs]
        existing = set(notifications.filter(key__in=keys).values_list("key", flat=True))
        objs = [o for o in objs if o.key not in existing]
        created += [o.pk for o in notifications.bulk_create(objs)]
    if created:
        from .tasks import notifications_send

        tenant_id = tenant.pk
        for start in range(0, len(created), FANOUT_CHUNK):
            ids = created[start : start + FANOUT_CHUNK]
            transaction.on_commit(lambda ids=ids: notifications_send.delay(tenant_id, ids))
    return created


def access_changed_later(*, tenant: Tenant, client_ids, access: bool, reason: str) -> None:
    """Send client_access_changed for many clients after the commit, from Celery tasks in
    chunks, so that a job's own run stays a fixed number of statements."""
    client_ids = sorted(set(client_ids))
    if not client_ids:
        return
    from .tasks import client_access_fanout

    tenant_id = tenant.pk
    for start in range(0, len(client_ids), FANOUT_CHUNK):
        ids = client_ids[start : start + FANOUT_CHUNK]
        transaction.on_commit(
            lambda ids=ids: client_access_fanout.delay(tenant_id, ids, access, reason)
        )


def access_changed_send(*, tenant: Tenant, client_ids, access: bool, reason: str) -> int:
    """The fan-out task's work: one query for the clients, then the signal for each."""
    clients = Client.objects.for_tenant(tenant).filter(pk__in=client_ids)
    count = 0
    for client in clients:
        client.tenant = tenant
        send_client_access_changed(sender="holds", client=client, access=access, reason=reason)
        count += 1
    return count


def _activities(tenant: Tenant, lines) -> None:
    """Bulk activity lines: (client_id, verb, description, data), all by "system"."""
    now = timezone.now()
    objs = [
        ClientActivity(
            tenant=tenant,
            client_id=client_id,
            actor=None,
            actor_label=SYSTEM,
            verb=verb[:40],
            description=description[:500],
            data=data,
            created_at=now,
        )
        for client_id, verb, description, data in lines
    ]
    ClientActivity.objects.for_tenant(tenant).bulk_create(objs, batch_size=BATCH)


# -- holds in bulk (the jobs) ---------------------------------------------------------------
def _holds_place_bulk(
    tenant: Tenant, reasons: dict[int, str], *, kind: str, job: str, now: datetime
) -> list[int]:
    """Put these clients (locked by the caller) on hold; returns the clients held. Each client
    already on a hold of this kind is left out."""
    holds = ClientHold.objects.for_tenant(tenant)
    already = set(
        holds.filter(client_id__in=list(reasons), kind=kind, lifted_at__isnull=True).values_list(
            "client_id", flat=True
        )
    )
    new = [
        ClientHold(
            tenant=tenant,
            client_id=client_id,
            kind=kind,
            reason=reason[:REASON_MAX],
            set_by_job=job,
            set_at=now,
        )
        for client_id, reason in reasons.items()
        if client_id not in already
    ]
    if not new:
        return []
    created = holds.bulk_create(new, batch_size=BATCH)
    client_ids = [h.client_id for h in created]
    subscriptions = Subscription.objects.for_tenant(tenant).filter(
        client_id__in=client_ids, status=SubscriptionStatus.ACTIVE
    )
    suspended = Counter(subscriptions.values_list("client_id", flat=True))
    subscriptions.update(status=SubscriptionStatus.SUSPENDED, suspended_at=now, updated_at=now)
    clients_refresh_status(tenant=tenant, client_ids=client_ids)
    label = HoldKind(kind).label
    lines = []
    for hold in created:
        lines.append((hold.client_id, "hold_set", f"{label} set: {hold.reason}", {"hold": hold.pk}))
        if suspended[hold.client_id]:
            lines.append(
                (
                    hold.client_id,
                    "subscriptions_suspended",
                    f"{suspended[hold.client_id]} subscription(s) suspended: {label}",
                    {"count": suspended[hold.client_id]},
                )
            )
    _activities(tenant, lines)
    notifications_create(
        tenant=tenant,
        rows=[
            (h.client_id, NotificationKind.HOLD_SET, f"hold:{h.pk}", None, h.pk) for h in created
        ],
    )
    access_changed_later(tenant=tenant, client_ids=client_ids, access=False, reason="hold_set")
    return client_ids


def _holds_release_bulk(
    tenant: Tenant, hold_ids: list[int], *, job: str, reasons: dict[int, str], now: datetime
) -> list[int]:
    """Lift these holds; clients left without a hold get their subscriptions back."""
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
        lifted_at=now, lifted_by_job=job, lift_reason="Funds back to zero or more"
    )
    client_ids = [r[1] for r in rows]
    still_held = set(
        holds.filter(client_id__in=client_ids, lifted_at__isnull=True).values_list(
            "client_id", flat=True
        )
    )
    free = [c for c in client_ids if c not in still_held]
    resumed = _subscriptions_resume_bulk(tenant, free, now=now)
    clients_refresh_status(tenant=tenant, client_ids=client_ids)
    lines = []
    for pk, client_id, kind in rows:
        reason = reasons.get(client_id, "Funds back to zero or more")
        lines.append(
            (client_id, "hold_released", f"{HoldKind(kind).label} released: {reason}", {"hold": pk})
        )
        if resumed[client_id]:
            lines.append(
                (
                    client_id,
                    "subscriptions_resumed",
                    f"{resumed[client_id]} subscription(s) active again",
                    {"count": resumed[client_id]},
                )
            )
    _activities(tenant, lines)
    with_active = set(
        Subscription.objects.for_tenant(tenant)
        .filter(client_id__in=free, status=SubscriptionStatus.ACTIVE)
        .values_list("client_id", flat=True)
    )
    access_changed_later(tenant=tenant, client_ids=with_active, access=True, reason="hold_released")
    return client_ids


def _subscriptions_resume_bulk(tenant: Tenant, client_ids, *, now: datetime) -> Counter:
    if not client_ids:
        return Counter()
    subscriptions = Subscription.objects.for_tenant(tenant)
    suspended = list(
        subscriptions.filter(client_id__in=client_ids, status=SubscriptionStatus.SUSPENDED).only(
            "pk", "client_id", "end_date", "suspended_at"
        )
    )
    for subscription in suspended:
        if tenant.suspended_days_extend and subscription.suspended_at:
            subscription.end_date += timedelta(days=(now - subscription.suspended_at).days)
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.suspended_at = None
        subscription.updated_at = now
    subscriptions.bulk_update(
        suspended, ["status", "suspended_at", "end_date", "updated_at"], batch_size=BATCH
    )
    return Counter(s.client_id for s in suspended)


# -- running a job: one at a time per tenant, recorded -------------------------------------
@contextmanager
def job_lock(job: str, tenant_id: int):
    """A PostgreSQL session advisory lock per job and tenant: True when this worker holds it.
    Elsewhere (the demo's SQLite, one worker) it always holds."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = zlib.crc32(f"holds:{job}".encode()) & 0x7FFFFFFF
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [key, tenant_id])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [key, tenant_id])


def job_run(*, tenant: Tenant, job: str, now: datetime | None = None) -> JobRun | None:
    """Run one job for one tenant and record the run; None when another worker is running it.
    A failure is recorded with its traceback (and logged), not raised: the next run retries.
    The run holds a lease until the hard time limit; a run left `running` by a worker that
    died is failed with its reason here (holding the lock, no other worker runs this job for
    this tenant) or by beat's sweep once its lease expired."""
    func = {JobName.FINANCIAL_HOLDS: financial_holds_run, JobName.EXPIRY: expiry_run}[job]
    with job_lock(job, tenant.pk) as held:
        if not held:
            logger.info("Job %s for tenant %s is running elsewhere; skipped.", job, tenant.pk)
            return None
        runs = JobRun.objects.for_tenant(tenant).filter(job=job)
        runs.filter(started_at__lt=timezone.now() - JOB_RUNS_KEPT).delete()
        if connection.vendor == "postgresql":
            leases_fail_running(runs, JobRun.lease_interrupted_reason(1))
        run, lease = lease_create(runs, tenant=tenant, job=job)
        try:
            result = func(tenant=tenant, now=now)
        except Exception:
            logger.exception("Job %s for tenant %s failed", job, tenant.pk)
            lease_fail(lease, traceback.format_exc()[-5000:])
        else:
            lease_finish(lease, status=JobStatus.OK, result=result)
        run.refresh_from_db()
        return run


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
            pk: f"Debt: available funds {_money(balance + limit)} {currency} "
            f"(below zero since {format_datetime(timezone.localtime(since, tenant.zone))})"
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
            reasons={c: f"Funds back to {_money(b + lim)} {currency}" for _, c, b, lim in funded},
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


# -- the expiry and auto-renewal job -------------------------------------------------------
def renewal_budget_seconds() -> float:
    """How long one run may spend on renewals before leaving the rest to the next run (which
    the task queues at once): well inside Celery's soft time limit."""
    configured = getattr(settings, "HOLDS_RENEWAL_SECONDS", None)
    return configured if configured is not None else settings.CELERY_TASK_SOFT_TIME_LIMIT * 0.7


def renewal_key(subscription_id: int) -> str:
    return f"sub-renewal:{subscription_id}"


def subscription_renew(*, tenant: Tenant, subscription_id: int, today: date) -> str:
    """Buy the next period of one due auto-renew subscription, in its own short transaction:
    lock the row (SKIP LOCKED: another worker has it), charge the package's price through the
    ledger with the period's key, end the old period (Expired) and create the new one.
    Returns "renewed", "insufficient" (nothing changed) or "skipped" (not due any more or
    locked by another worker).

    The new period starts on the old end date (no gap, no overlap). When the job has not run
    for longer than a period, the new period may be due at once: the next run renews it again,
    one period per run, each with its own key."""
    try:
        with transaction.atomic():
            old = (
                Subscription.objects.for_tenant(tenant)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("package", "client__account")
                .filter(
                    pk=subscription_id,
                    status=SubscriptionStatus.ACTIVE,
                    auto_renew=True,
                    end_date__lte=today,
                )
                .first()
            )
            if old is None:
                return "skipped"
            package, client = old.package, old.client
            client.tenant = tenant
            start, end = old.end_date, package.end_for(old.end_date)
            entry = None
            if package.price > 0:
                try:
                    account = client.account  # read with the subscription: one query less
                except ObjectDoesNotExist:
                    account = account_for_client(client=client)
                account.tenant = tenant  # saves billing a query for it
                account.client = client
                entry = account_charge(
                    account=account,
                    amount=package.price,
                    purpose=f"Renewal of {package.name}, {format_date(start)} – {format_date(end)}",
                    kind=EntryKind.SUBSCRIPTION_PURCHASE,
                    idempotency_key=renewal_key(old.pk),
                )
            now = timezone.now()
            old.status = SubscriptionStatus.EXPIRED
            old.updated_at = now
            old.save(update_fields=["status", "updated_at"])
            new = Subscription.objects.for_tenant(tenant).create(
                tenant=tenant,
                client=client,
                package=package,
                status=SubscriptionStatus.ACTIVE,
                start_date=start,
                end_date=end,
                auto_renew=True,
                amount_paid=package.price,
                charge_entry=entry,
                renewal_of=old,
                origin_id=old.origin_id or old.pk,
                created_at=now,
            )
            activity_record(
                tenant=tenant,
                client=client,
                actor_label=SYSTEM,
                verb="subscription_renewed",
                description=(
                    f"Subscription {package.name} renewed for {_money(package.price)} "
                    f"{tenant.currency}, {format_date(start)} – {format_date(end)}"
                ),
                data={"subscription": new.pk, "renewal_of": old.pk, "amount": str(package.price)},
            )
            send_client_access_changed(
                sender="holds", client=client, access=True, reason="subscription_renewed"
            )
    except InsufficientFunds:
        return "insufficient"
    return "renewed"


def expiry_run(*, tenant: Tenant, now: datetime | None = None) -> dict:
    """Renew what can be renewed, expire the rest of what is due, and owe the e-mails of
    subscriptions about to expire (once each)."""
    now = now or timezone.now()
    today = tenant_today(tenant, now)
    subscriptions = Subscription.objects.for_tenant(tenant)
    # 1. Renewals with funds, each in its own transaction (per account, short).
    renewable = list(
        subscriptions.filter(status=SubscriptionStatus.ACTIVE, auto_renew=True, end_date__lte=today)
        .alias(a=F("client__account__balance") + F("client__account__credit_limit"))
        .filter(Q(package__price=0) | Q(a__gte=F("package__price")))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    outcomes = Counter()
    failed = []
    deferred_from = None  # renewals from this id on wait for the next run (time budget)
    deadline = time.monotonic() + renewal_budget_seconds()
    for index, subscription_id in enumerate(renewable):
        if time.monotonic() > deadline or len(failed) >= MAX_RENEWAL_ERRORS:
            deferred_from = subscription_id
            outcomes["deferred"] = len(renewable) - index
            break
        try:
            outcomes[
                subscription_renew(tenant=tenant, subscription_id=subscription_id, today=today)
            ] += 1
        except SoftTimeLimitExceeded:
            raise
        except Exception:  # one bad row must not stop the run; it stays due for the next
            logger.exception("Renewal of subscription %s failed", subscription_id)
            failed.append(subscription_id)
    # 2. Expire everything else that is due, in one statement (renewals not reached wait).
    with transaction.atomic():
        expired = _expire_due(
            tenant, today=today, now=now, exclude=failed, auto_renew_from=deferred_from
        )
        held = _after_expiry(tenant, expired, now=now)
        # 3. About to expire: one e-mail per period.
        expiring = list(
            subscriptions.filter(
                status=SubscriptionStatus.ACTIVE,
                end_date__gt=today,
                end_date__lte=today + timedelta(days=tenant.expiring_window_days),
                client__email__gt="",
            )
            .filter(
                ~Exists(
                    Notification.objects.for_tenant(tenant).filter(
                        subscription=OuterRef("pk"), kind=NotificationKind.EXPIRING
                    )
                )
            )
            .values_list("pk", "client_id")
        )
        notifications_create(
            tenant=tenant,
            rows=[(c, NotificationKind.EXPIRING, f"expiring:{s}", s, None) for s, c in expiring],
        )
    return {
        "renewed": outcomes["renewed"],
        "renewals_deferred": outcomes["deferred"],
        "renewal_short_of_funds": outcomes["insufficient"],
        "renewal_errors": len(failed),
        "expired": len(expired),
        "financial_holds": held,
        "expiring_notices": len(expiring),
    }


def _expire_due(
    tenant: Tenant, *, today: date, now: datetime, exclude, auto_renew_from: int | None = None
) -> list[tuple]:
    """One UPDATE ... RETURNING of every due subscription (locked rows skipped), except the
    renewals that failed with an error and, when the run ran out of time, the auto-renew ones
    from `auto_renew_from` on; returns rows of (id, client_id, package_id, auto_renew)."""
    table = Subscription._meta.db_table
    statuses = ["active"] + ([] if tenant.suspended_days_extend else ["suspended"])
    marks = ", ".join(["%s"] * len(statuses))
    params = [SubscriptionStatus.EXPIRED, now, tenant.pk, tenant.pk, today, *statuses]
    skip = ""
    if exclude:
        skip = f" AND id NOT IN ({', '.join(['%s'] * len(exclude))})"
        params += list(exclude)
    if auto_renew_from is not None:
        skip += " AND NOT (auto_renew AND id >= %s)"
        params.append(auto_renew_from)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        f"UPDATE {table} SET status = %s, updated_at = %s "  # noqa: S608 - names are ours
        f"WHERE tenant_id = %s AND id IN (SELECT id FROM {table} WHERE tenant_id = %s "
        f"AND end_date <= %s AND status IN ({marks}){skip}{lock}) "
        f"RETURNING id, client_id, package_id, auto_renew"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _after_expiry(tenant: Tenant, expired: list[tuple], *, now: datetime) -> int:
    """Activity, e-mails and access for the expired rows; financial holds for failed renewals
    when the tenant wants them. Returns how many clients went on hold."""
    if not expired:
        return 0
    names = dict(
        Package.objects.for_tenant(tenant)
        .filter(pk__in={r[2] for r in expired})
        .values_list("pk", "name")
    )
    lines = []
    for pk, client_id, package_id, auto_renew in expired:
        why = " (auto-renewal: not enough funds)" if auto_renew else ""
        lines.append(
            (
                client_id,
                "subscription_expired",
                f"Subscription {names.get(package_id, package_id)} expired{why}",
                {"subscription": pk},
            )
        )
    _activities(tenant, lines)
    notifications_create(
        tenant=tenant,
        rows=[(c, NotificationKind.EXPIRED, f"expired:{s}", s, None) for s, c, _, _ in expired],
    )
    client_ids = {r[1] for r in expired}
    with_active = set(
        Subscription.objects.for_tenant(tenant)
        .filter(client_id__in=client_ids, status=SubscriptionStatus.ACTIVE)
        .values_list("client_id", flat=True)
    )
    access_changed_later(
        tenant=tenant,
        client_ids=client_ids - with_active,
        access=False,
        reason="subscription_expired",
    )
    if not tenant.hold_on_failed_renewal:
        return 0
    failed = defaultdict(list)
    for _pk, client_id, package_id, auto_renew in expired:
        if auto_renew:
            failed[client_id].append(names.get(package_id, str(package_id)))
    if not failed:
        return 0
    locked = set(
        Client.objects.for_tenant(tenant)
        .filter(pk__in=list(failed))
        .exclude(status=ClientStatus.DELETED)
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)
    )
    reasons = {
        client_id: f"Auto-renewal of {', '.join(packages)} failed: not enough funds"
        for client_id, packages in failed.items()
        if client_id in locked
    }
    return len(
        _holds_place_bulk(tenant, reasons, kind=HoldKind.FINANCIAL, job=JOB_RENEWAL, now=now)
    )

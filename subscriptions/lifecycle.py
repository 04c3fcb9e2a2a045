"""A subscription's life after its purchase: the paid period (bought by a purchase or a
renewal), suspension and resumption (holds), renewal, expiry, and the expiry and auto-renewal
job. `subscriptions.services` re-exports the public functions: import them from there.

Rules
- A paid period (`subscription_period_buy`): the package's price charged through the ledger
  with the caller's key (nothing when free), then the period's row. A purchase and a renewal
  both buy their periods here.
- Suspend (`subscriptions_suspend`): the active subscriptions of some clients become Suspended
  (a hold was set). Resume (`subscriptions_resume`): their suspended ones become Active again,
  each end date moved on by the whole days it was suspended unless the tenant turns
  `suspended_days_extend` off. Both are set-based; the operator's hold and release (one client)
  and the financial-hold job (many) use the same two functions.
- Expiry: an active subscription whose end date (exclusive, in the tenant's time zone) is today
  or earlier expires. With auto-renew, the next period (from the old end date) is bought first,
  through the ledger with the key "sub-renewal:<previous subscription id>", when funds allow;
  else it expires. A package taken off sale still renews (the client keeps what they have).
  While a client is on hold its subscriptions are Suspended and do not expire, unless the
  tenant does not give days back: then a suspended period expires when its end date passes.

The job (`expiry_run`, registered as "expiry" in SubscriptionsConfig.ready()) is per tenant,
set-based and idempotent: a fixed number of statements for the whole run, except the bulk
inserts of activity lines (one per 2,000 rows) and the renewals, which go by chunks of
RENEWAL_CHUNK due subscriptions, one transaction and a fixed number of statements a chunk
(`subscriptions_renew_chunk`: the rows locked with SKIP LOCKED, the charges posted through
billing's chunk, the old periods ended and the new ones inserted in one statement, their
activity lines in one more). One run per tenant at a time
(core/jobs.py), and the ledger's keys make a renewal charge at most once, whichever worker or
rerun gets to it.

The hook `expiry_done` (below) is how the apps above learn what a run expired, in the run's
transaction: the holds app connects to it in HoldsConfig.ready() to owe the e-mails (expired,
about to expire) and, with the tenant's `hold_on_failed_renewal`, to put the clients whose
auto-renewal failed for want of funds on financial hold. This app never imports holds.
"""

import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy

from billing.models import Account, EntryKind
from billing.services import (
    InsufficientFunds,
    Posting,
    account_charge,
    account_for_client,
    account_ids_for_clients,
    ledger_post_chunk_retried,
)
from clients.models import Client
from core.sql import array_param, bound_cursor, is_postgresql
from core.stored_text import Money, StoredText, stored_gettext, stored_ngettext, stored_pgettext
from events.services import EventLine, event_record, events_record_bulk
from tenancy.models import Tenant

from .models import Package, Subscription, SubscriptionStatus, tenant_today

logger = logging.getLogger(__name__)

SYSTEM = "system"
EXPIRY_JOB = "expiry"
BATCH = 2000
RENEWAL_CHUNK = 1000  # due subscriptions renewed in one transaction
MAX_RENEWAL_ERRORS = 100  # past this many failed renewals in a run, something is wrong: stop

# The figures of a run an operator reads on the dashboard, in this order ("financial_holds"
# and "expiring_notices" come from the receivers of `expiry_done`).
EXPIRY_RESULT_LABELS = {
    "financial_holds": gettext_lazy("Put on financial hold:"),
    "renewed": gettext_lazy("Renewed:"),
    "expired": gettext_lazy("Expired:"),
    "renewal_short_of_funds": gettext_lazy("Not renewed for want of funds:"),
    "renewal_errors": gettext_lazy("Renewals that failed:"),
    "renewals_deferred": gettext_lazy("Renewals left for the next run:"),
    "expiring_notices": gettext_lazy("Expiry notices sent:"),
}

# Sent by `expiry_run` inside its transaction, after the due subscriptions expired, with
# `tenant`, `now`, `today`, `expired` (rows of (subscription id, client id, package name,
# auto_renew): those with auto_renew expired because their renewal found too little money) and
# `failed_renewals` ({client id: [package names]}). A receiver returns a dict of figures for
# the run's result ("financial_holds", "expiring_notices"), or None.
expiry_done = Signal()

# Sent after the commit when subscriptions start or stop giving clients service: bought,
# renewed (`active=True`), cancelled or expired with no other active one left (`active=False`).
# Arguments: `tenant`, `client_ids`, `active`, `reason` ("subscription_created",
# "subscription_renewed", "subscription_cancelled", "subscription_expired"). The holds app, which
# owns access, turns it into `client_access_changed` (a client on hold keeps no access).
# Suspension and resumption are the holds app's own changes: they announce nothing here.
subscriptions_changed = Signal()


def days_between(start, end) -> StoredText:
    """A period of days, "01.10.2026 – 31.10.2026", read in the reader's date format."""
    return stored_pgettext("period of days", "%(start)s – %(end)s", start=start, end=end)


def purchase_purpose(package_name: str, start: date, end: date) -> StoredText:
    """A bought period's ledger purpose, "Subscription Home 100, 01.10.2026 – 31.10.2026",
    its dates in the reader's format."""
    return stored_gettext(
        "Subscription %(package)s, %(start)s – %(end)s", package=package_name, start=start, end=end
    )


def renewal_purpose(package_name: str, start: date, end: date) -> StoredText:
    """A renewed period's ledger purpose, written by the expiry job and read in each reader's
    language and date format."""
    return stored_gettext(
        "Renewal of %(package)s, %(start)s – %(end)s", package=package_name, start=start, end=end
    )


def subscriptions_changed_announce(*, tenant: Tenant, client_ids, active: bool, reason: str):
    """`subscriptions_changed` once the current transaction commits (nothing for no clients)."""
    client_ids = sorted(set(client_ids))
    if client_ids:
        transaction.on_commit(
            lambda: subscriptions_changed.send(
                sender=Subscription,
                tenant=tenant,
                client_ids=client_ids,
                active=active,
                reason=reason,
            )
        )


# -- the paid period ------------------------------------------------------------------------
def subscription_period_buy(
    *,
    tenant: Tenant,
    client: Client,
    package: Package,
    start_date: date,
    auto_renew: bool,
    idempotency_key: str,
    status: str = SubscriptionStatus.ACTIVE,
    actor=None,
    account=None,
    renewal_of: Subscription | None = None,
) -> Subscription:
    """Buy one period of `package` from `start_date`: charge its price through the ledger
    (`purchase_purpose`, the caller's key; nothing for a free package), then insert
    the period's row. Joins the caller's transaction; raises what the ledger raises
    (InsufficientFunds) and the database's IntegrityError for a second live period."""
    end_date = package.end_for(start_date)
    entry = None
    if package.price > 0:
        entry = account_charge(
            account=account or account_for_client(client=client),
            amount=package.price,
            purpose=purchase_purpose(package.name, start_date, end_date),
            kind=EntryKind.SUBSCRIPTION_PURCHASE,
            actor=actor,
            idempotency_key=idempotency_key,
        )
    now = timezone.now()
    subscription = Subscription(
        tenant=tenant,
        client=client,
        package=package,
        status=status,
        suspended_at=now if status == SubscriptionStatus.SUSPENDED else None,
        start_date=start_date,
        end_date=end_date,
        auto_renew=auto_renew,
        amount_paid=package.price,
        charge_entry=entry,
        renewal_of=renewal_of,
        origin_id=(renewal_of.origin_id or renewal_of.pk) if renewal_of else None,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now,
    )
    subscription.save(force_insert=True)
    return subscription


# -- suspend and resume (holds) -------------------------------------------------------------
def subscriptions_suspend(*, tenant: Tenant, client_ids, now: datetime | None = None) -> Counter:
    """Suspend every active subscription of these clients (a hold was set): one UPDATE.
    Returns how many each client had suspended. Idempotent: suspended ones stay as they are."""
    now = now or timezone.now()
    active = Subscription.objects.for_tenant(tenant).filter(
        client_id__any=list(client_ids), status=SubscriptionStatus.ACTIVE
    )
    suspended = Counter(active.values_list("client_id", flat=True))
    if suspended:
        active.update(status=SubscriptionStatus.SUSPENDED, suspended_at=now, updated_at=now)
    return suspended


def subscriptions_resume(*, tenant: Tenant, client_ids, now: datetime | None = None) -> Counter:
    """Return every suspended subscription of these clients to Active (their last hold was
    released), each end date moved on by the whole days it was suspended unless the tenant
    turns `suspended_days_extend` off, so that the client loses no paid day. Returns how
    many each client had resumed."""
    client_ids = list(client_ids)
    if not client_ids:
        return Counter()
    now = now or timezone.now()
    subscriptions = Subscription.objects.for_tenant(tenant)
    suspended = list(
        subscriptions.select_for_update()
        .filter(client_id__in=client_ids, status=SubscriptionStatus.SUSPENDED)
        .only("pk", "client_id", "end_date", "suspended_at")
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


@transaction.atomic
def subscription_suspend_all(
    *, client: Client, actor=None, actor_label: str = "", reason=""
) -> int:
    """One client's `subscriptions_suspend`, with its activity line (the holds app, which
    calls it, tells the routers). Returns how many changed."""
    tenant = client.tenant
    changed = subscriptions_suspend(tenant=tenant, client_ids=[client.pk])[client.pk]
    if changed:
        event_record(
            tenant=tenant,
            client_id=client.pk,
            actor=actor,
            actor_label=actor_label,
            type="subscription.suspended",
            description=(
                stored_ngettext(
                    "%(count)s subscription suspended: %(reason)s",
                    "%(count)s subscriptions suspended: %(reason)s",
                    changed,
                    reason=reason,
                )
                if reason
                else stored_ngettext(
                    "%(count)s subscription suspended", "%(count)s subscriptions suspended", changed
                )
            ),
            payload={"count": changed},
        )
    return changed


@transaction.atomic
def subscription_resume_all(*, client: Client, actor=None, actor_label: str = "") -> int:
    """One client's `subscriptions_resume`, with its activity line (the holds app, which
    calls it, tells the routers). Returns how many changed."""
    tenant = client.tenant
    resumed = subscriptions_resume(tenant=tenant, client_ids=[client.pk])[client.pk]
    if resumed:
        event_record(
            tenant=tenant,
            client_id=client.pk,
            actor=actor,
            actor_label=actor_label,
            type="subscription.resumed",
            description=stored_ngettext(
                "%(count)s subscription active again",
                "%(count)s subscriptions active again",
                resumed,
            ),
            payload={"count": resumed},
        )
    return resumed


def clients_with_active_subscription(*, tenant: Tenant, client_ids) -> set[int]:
    """Which of these clients have an active subscription (access follows it)."""
    return set(
        Subscription.objects.for_tenant(tenant)
        .filter(client_id__in=list(client_ids), status=SubscriptionStatus.ACTIVE)
        .values_list("client_id", flat=True)
    )


# -- renewal --------------------------------------------------------------------------------
def renewal_budget_seconds() -> float:
    """How long one run may spend on renewals before leaving the rest to the next run (which
    the task queues at once): well inside Celery's soft time limit."""
    configured = getattr(settings, "SUBSCRIPTIONS_RENEWAL_SECONDS", None)
    return configured if configured is not None else settings.CELERY_TASK_SOFT_TIME_LIMIT * 0.7


def renewal_key(subscription_id: int) -> str:
    return f"sub-renewal:{subscription_id}"


def subscription_renew(*, tenant: Tenant, subscription_id: int, today: date) -> str:
    """Buy the next period of one due auto-renew subscription: the chunk of one. Returns
    "renewed", "insufficient" (nothing changed) or "skipped" (not due any more or locked by
    another worker)."""
    outcome = subscriptions_renew_chunk(
        tenant=tenant, subscription_ids=[subscription_id], today=today
    )
    for name in ("renewed", "insufficient"):
        if outcome[name]:
            return name
    return "skipped"


def subscriptions_renew_chunk(*, tenant: Tenant, subscription_ids, today: date) -> Counter:
    """Renew these due auto-renew subscriptions in one transaction, with the same statements
    whatever their number: lock those still due (SKIP LOCKED: another worker has the rest),
    post their charges through billing's chunk (each with its key "sub-renewal:<id>", so that
    a rerun never charges twice; one client short of funds is refused alone), end the old
    periods (Expired) and insert the new ones in one statement, from the old end dates (no
    gap, no overlap).
    Returns how many were "renewed" and how many found too little money ("insufficient":
    nothing of them changed; the expiry that follows expires them).

    When the job has not run for longer than a period, the new period may be due at once: the
    next run renews it again, one period per run, each with its own key."""
    with transaction.atomic():
        due = _lock_due_renewals(tenant, subscription_ids, today)
        if not due:
            return Counter()
        packages = _packages_of(tenant, due)
        charged = [old for old in due if packages[old.package_id].price > 0]
        purposes = {}
        _accounts_give(tenant, [old for old in charged if old.account_id is None])
        results = ledger_post_chunk_retried(
            tenant=tenant,
            postings=[_renewal_posting(old, packages[old.package_id], purposes) for old in charged],
        )
        entries = {}
        outcome = Counter()
        for old, result in zip(charged, results, strict=True):
            if isinstance(result.error, InsufficientFunds):
                outcome["insufficient"] += 1
            elif result.error is not None:
                raise result.error
            else:
                entries[old.pk] = result.entry
        renewed = [old for old in due if old.pk in entries or packages[old.package_id].price == 0]
        if renewed:
            _periods_renew(tenant, renewed, packages, entries)
        outcome["renewed"] = len(renewed)
    return outcome


@dataclass(slots=True)
class _DueRenewal:
    """A due auto-renew subscription, locked for its renewal: what the renewal reads of it."""

    pk: int
    client_id: int
    package_id: int
    end_date: date
    origin_id: int | None
    account_id: int | None


_SUBSCRIPTION_TABLE = Subscription._meta.db_table
_LOCK_DUE_SQL = (
    "SELECT s.id, s.client_id, s.package_id, s.end_date, s.origin_id, a.id "  # noqa: S608 - names are ours
    f"FROM {_SUBSCRIPTION_TABLE} s LEFT JOIN {Account._meta.db_table} a "
    "ON a.tenant_id = s.tenant_id AND a.client_id = s.client_id "
    f"WHERE s.tenant_id = %s AND s.id = ANY({array_param('bigint')}) AND s.status = %s "
    "AND s.auto_renew AND s.end_date <= %s ORDER BY s.id FOR UPDATE OF s SKIP LOCKED"
)


def _lock_due_renewals(tenant: Tenant, subscription_ids, today: date) -> list[_DueRenewal]:
    """Those of these subscriptions still due, locked (SKIP LOCKED), with their clients'
    accounts, in id order: one statement, the ids as one array."""
    if not is_postgresql():  # the SQLite demo: the ORM's IN list
        rows = (
            Subscription.objects.for_tenant(tenant)
            .select_for_update(skip_locked=True, of=("self",))
            .filter(
                pk__in=list(subscription_ids),
                status=SubscriptionStatus.ACTIVE,
                auto_renew=True,
                end_date__lte=today,
            )
            .order_by("pk")
            .values_list(
                "pk", "client_id", "package_id", "end_date", "origin_id", "client__account__id"
            )
        )
    else:
        with bound_cursor() as cursor:
            params = [tenant.pk, list(subscription_ids), SubscriptionStatus.ACTIVE.value, today]
            cursor.execute(_LOCK_DUE_SQL, params)
            rows = cursor.fetchall()
    return [_DueRenewal(*row) for row in rows]


def _packages_of(tenant: Tenant, due: list[_DueRenewal]) -> dict[int, Package]:
    return Package.objects.for_tenant(tenant).in_bulk({old.package_id for old in due})


def _accounts_give(tenant: Tenant, subscriptions: list[_DueRenewal]) -> None:
    """Accounts for the clients of these subscriptions, which have none (clients loaded in
    bulk): the same statements for one as for the whole chunk."""
    if not subscriptions:
        return
    found = account_ids_for_clients(tenant=tenant, client_ids={s.client_id for s in subscriptions})
    for subscription in subscriptions:
        subscription.account_id = found[subscription.client_id]


def _renewal_posting(old: _DueRenewal, package: Package, purposes: dict) -> Posting:
    return Posting(
        account_id=old.account_id,
        amount=-package.price,
        kind=EntryKind.SUBSCRIPTION_PURCHASE,
        purpose=_renewal_purpose(package, old.end_date, purposes),
        idempotency_key=renewal_key(old.pk),
    )


def _renewal_purpose(package: Package, start: date, purposes: dict) -> StoredText:
    """The renewal's purpose, made once per package and start date of a chunk (`purposes`
    keeps them): a day's renewals share a few of them."""
    key = (package.pk, start)
    if key not in purposes:
        purposes[key] = renewal_purpose(package.name, start, package.end_for(start))
    return purposes[key]


def _periods_renew(tenant: Tenant, renewed: list[_DueRenewal], packages, entries) -> None:
    """End the old periods and insert the new ones (one statement), with their activity
    lines (one more), and announce them after the commit."""
    now = timezone.now()
    new_ids = _periods_replace(tenant, renewed, packages, entries, now)
    descriptions = {}  # a day's renewals share a few descriptions: each is made once
    lines = []
    for old in renewed:
        package = packages[old.package_id]
        key = (package.pk, old.end_date)
        if key not in descriptions:
            descriptions[key] = stored_gettext(
                "Subscription %(name)s renewed for %(amount)s, %(period)s",
                name=package.name,
                amount=Money(package.price, tenant.currency),
                period=days_between(old.end_date, package.end_for(old.end_date)),
            )
        lines.append(
            EventLine(
                type="subscription.renewed",
                client_id=old.client_id,
                description=descriptions[key],
                payload={
                    "subscription": new_ids[old.pk],
                    "renewal_of": old.pk,
                    "amount": str(package.price),
                },
                object_type="subscription",
                object_id=new_ids[old.pk],
            )
        )
    events_record_bulk(tenant=tenant, lines=lines)
    subscriptions_changed_announce(
        tenant=tenant,
        client_ids=[old.client_id for old in renewed],
        active=True,
        reason="subscription_renewed",
    )


# The old periods ended and the next ones inserted in one statement: the UPDATE's RETURNING
# feeds the INSERT, so that each new period is written after its old one left the live ones
# (the one live period per client and package is a unique index).
_PERIODS_REPLACE_SQL = (
    "WITH v AS (SELECT * FROM unnest("  # noqa: S608 - names are ours
    + ", ".join(array_param(t) for t in ("bigint", "date", "numeric", "bigint"))
    + ") WITH ORDINALITY AS v(id, end_date, price, entry_id, n)), "
    f"old AS (UPDATE {_SUBSCRIPTION_TABLE} s SET status = %s, updated_at = %s FROM v "
    "WHERE s.tenant_id = %s AND s.id = v.id "
    "RETURNING s.id, s.tenant_id, s.client_id, s.package_id, s.end_date, s.origin_id) "
    f"INSERT INTO {_SUBSCRIPTION_TABLE} (tenant_id, client_id, package_id, status, "
    "start_date, end_date, auto_renew, amount_paid, refunded_amount, charge_entry_id, "
    "renewal_of_id, origin_id, created_at, updated_at, cancel_reason) "
    "SELECT old.tenant_id, old.client_id, old.package_id, %s, old.end_date, v.end_date, TRUE, "
    "v.price, 0, v.entry_id, old.id, COALESCE(old.origin_id, old.id), %s, %s, '' "
    "FROM v JOIN old ON old.id = v.id ORDER BY v.n RETURNING renewal_of_id, id"
)


def _periods_replace(tenant: Tenant, renewed, packages, entries, now) -> dict[int, int]:
    """The old periods Expired and the next period of each, from its end date, in one
    statement; returns {old id: new id}."""
    if not is_postgresql():  # the SQLite demo: the ORM's update and bulk insert
        Subscription.objects.for_tenant(tenant).filter(pk__in=[old.pk for old in renewed]).update(
            status=SubscriptionStatus.EXPIRED, updated_at=now
        )
        new = Subscription.objects.for_tenant(tenant).bulk_create(
            [
                Subscription(
                    tenant=tenant,
                    client_id=old.client_id,
                    package=packages[old.package_id],
                    start_date=old.end_date,
                    end_date=packages[old.package_id].end_for(old.end_date),
                    auto_renew=True,
                    amount_paid=packages[old.package_id].price,
                    charge_entry=entries.get(old.pk),
                    renewal_of_id=old.pk,
                    origin_id=old.origin_id or old.pk,
                    created_at=now,
                    updated_at=now,
                )
                for old in renewed
            ]
        )
        return {period.renewal_of_id: period.pk for period in new}
    params = [
        [old.pk for old in renewed],
        [packages[old.package_id].end_for(old.end_date) for old in renewed],
        [packages[old.package_id].price for old in renewed],
        [entries[old.pk].pk if old.pk in entries else None for old in renewed],
        SubscriptionStatus.EXPIRED.value,
        now,
        tenant.pk,
        SubscriptionStatus.ACTIVE.value,
        now,
        now,
    ]
    with bound_cursor() as cursor:
        cursor.execute(_PERIODS_REPLACE_SQL, params)
        return dict(cursor.fetchall())


# -- the expiry and auto-renewal job --------------------------------------------------------
def expiry_run(*, tenant: Tenant, now: datetime | None = None) -> dict:
    """Renew what can be renewed, expire the rest of what is due, and tell `expiry_done`."""
    now = now or timezone.now()
    today = tenant_today(tenant, now)
    renewals = _renewals_run(tenant, today)
    with transaction.atomic():
        expired = _expire_due(
            tenant,
            today=today,
            now=now,
            exclude=renewals["failed"],
            auto_renew_from=renewals["deferred_from"],
        )
        figures = _after_expiry(tenant, expired, now=now, today=today)
    outcomes = renewals["outcomes"]
    return {
        "renewed": outcomes["renewed"],
        "renewals_deferred": outcomes["deferred"],
        "renewal_short_of_funds": outcomes["insufficient"],
        "renewal_errors": len(renewals["failed"]),
        "expired": len(expired),
        "financial_holds": figures.get("financial_holds", 0),
        "expiring_notices": figures.get("expiring_notices", 0),
    }


def _renewals_run(tenant: Tenant, today: date) -> dict:
    """Renew every due auto-renew subscription whose funds allow, RENEWAL_CHUNK to a
    transaction, within the time budget. A chunk that fails is renewed again one subscription
    at a time, so that one bad row does not stop the others (it stays due for the next run)."""
    renewable = list(
        Subscription.objects.for_tenant(tenant)
        .filter(status=SubscriptionStatus.ACTIVE, auto_renew=True, end_date__lte=today)
        .alias(a=F("client__account__balance") + F("client__account__credit_limit"))
        .filter(Q(package__price=0) | Q(a__gte=F("package__price")))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    outcomes = Counter()
    failed = []
    deferred_from = None  # renewals from this id on wait for the next run (time budget)
    deadline = time.monotonic() + renewal_budget_seconds()
    for start in range(0, len(renewable), RENEWAL_CHUNK):
        if time.monotonic() > deadline or len(failed) >= MAX_RENEWAL_ERRORS:
            deferred_from = renewable[start]
            outcomes["deferred"] = len(renewable) - start
            break
        chunk = renewable[start : start + RENEWAL_CHUNK]
        try:
            outcomes.update(
                subscriptions_renew_chunk(tenant=tenant, subscription_ids=chunk, today=today)
            )
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            logger.exception("Renewals %s-%s failed; renewing them one by one", chunk[0], chunk[-1])
            failed += _renew_one_by_one(tenant, chunk, today, outcomes)
    return {"outcomes": outcomes, "failed": failed, "deferred_from": deferred_from}


def _renew_one_by_one(tenant: Tenant, chunk: list[int], today: date, outcomes: Counter) -> list:
    failed = []
    for subscription_id in chunk:
        try:
            outcomes.update(
                subscriptions_renew_chunk(
                    tenant=tenant, subscription_ids=[subscription_id], today=today
                )
            )
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            logger.exception("Renewal of subscription %s failed", subscription_id)
            failed.append(subscription_id)
    return failed


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


def _after_expiry(tenant: Tenant, expired: list[tuple], *, now: datetime, today: date) -> dict:
    """Activity and access for the expired rows, then `expiry_done` (e-mails, holds); returns
    the figures its receivers reported."""
    names = dict(
        Package.objects.for_tenant(tenant)
        .filter(pk__in={r[2] for r in expired})
        .values_list("pk", "name")
    )
    rows = [(pk, c, names.get(p, str(p)), auto) for pk, c, p, auto in expired]
    events_record_bulk(
        tenant=tenant,
        lines=[
            EventLine(
                type="subscription.expired",
                client_id=client_id,
                description=(
                    stored_gettext(
                        "Subscription %(name)s expired (auto-renewal: not enough funds)", name=name
                    )
                    if auto_renew
                    else stored_gettext("Subscription %(name)s expired", name=name)
                ),
                payload={"subscription": pk, "auto_renew": auto_renew},
                object_type="subscription",
                object_id=pk,
            )
            for pk, client_id, name, auto_renew in rows
        ],
    )
    client_ids = {r[1] for r in rows}
    still_active = clients_with_active_subscription(tenant=tenant, client_ids=client_ids)
    subscriptions_changed_announce(
        tenant=tenant,
        client_ids=client_ids - still_active,
        active=False,
        reason="subscription_expired",
    )
    failed = defaultdict(list)
    for _pk, client_id, name, auto_renew in rows:
        if auto_renew:
            failed[client_id].append(name)
    figures = Counter()
    responses = expiry_done.send(
        sender=EXPIRY_JOB,
        tenant=tenant,
        now=now,
        today=today,
        expired=rows,
        failed_renewals=dict(failed),
    )
    for _receiver, response in responses:
        figures.update(response or {})
    return figures

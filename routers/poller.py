"""The status poller: every enabled router, in parallel, once a minute (Celery beat).

One cycle:
1. Lock the routers to poll (PostgreSQL advisory locks, one statement for all): a router that
   another poll still holds is skipped, so two overlapping cycles never poll it twice.
2. Load, in one query, what each router must be reconciled with: the accounts that need
   attention (disabled, or changes not yet applied) — or all of a router's accounts when a full
   audit is due (it came back after being unreachable, an account moved away, or
   AUDIT_INTERVAL passed).
3. A bounded thread pool talks to the routers (no database in the threads): connect, read
   /ppp/active once, reconcile, with each router's own timeout and deadline. The cycle has an
   overall deadline: routers still running then are cut off and recorded as timed out, so one
   hung router never delays the others past it.
4. As each router finishes, its results are written in a bounded number of statements (about
   five, whatever its number of accounts): online accounts in one UPDATE, the others in one
   (Offline, or Unknown when never seen online: the client has never connected), the
   reconciled accounts in one or two, the router row in one. A router that could not be read
   sets its accounts Unknown in one statement and records the error.

Running a cycle twice, or two at once, leaves the same state as running it once: every write
sets absolute values from what the router said, and the advisory lock keeps two pollers off
one router.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone, translation

from core import crypto
from core.locks import advisory_locks, lock_namespace
from core.metrics import router_poll_observed
from core.stored_text import EMPTY_TEXT, StoredText, stored_gettext
from events.services import EventLine, event_record, events_record_bulk
from tenancy.models import Tenant

from .models import (
    ConnectionStatus,
    PollErrorKind,
    PppoeAccount,
    Router,
    SyncState,
)
from .reconcile import DesiredSecret, ReconcileResult, reconcile
from .routeros import RouterConnection, RouterError, RouterTarget, secret_unreadable_error

logger = logging.getLogger(__name__)

AUDIT_INTERVAL = timedelta(minutes=15)
UNKNOWN_ERROR = stored_gettext("Unknown error")
# An account the router matches has no sync error: the empty text, as JSON for raw SQL.
NO_SYNC_ERROR = EMPTY_TEXT.to_json_text()


def setting(name: str, default: float) -> float:
    return float(getattr(settings, name, os.environ.get(name, default)))


@dataclass
class RouterPlan:
    router_id: int
    tenant_id: int
    target: RouterTarget | None
    desired: list[DesiredSecret]
    full_audit: bool
    error: RouterError | None = None  # known before connecting (e.g. unreadable password)


@dataclass
class RouterOutcome:
    router_id: int
    tenant_id: int
    ok: bool
    active: list[dict] = field(default_factory=list)
    reconciled: ReconcileResult | None = None
    kicked: set[str] = field(default_factory=set)  # seen in /ppp/active, then removed
    full_audit: bool = False
    identity: str = ""
    version: str = ""
    error: RouterError | None = None
    seconds: float = 0.0


@dataclass
class CycleReport:
    polled: int = 0
    reachable: int = 0
    skipped: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0


# -- locks -------------------------------------------------------------------------------------
ROUTER_LOCKS = lock_namespace("routers.router")  # polling or enforcing one router


def router_locks(router_ids: list[int]):
    """The ids among `router_ids` this process now holds (core.locks); the others are being
    polled or enforced elsewhere."""
    return advisory_locks(ROUTER_LOCKS, router_ids)


# -- planning ----------------------------------------------------------------------------------
def routers_to_poll(router_ids: list[int] | None = None) -> list[Router]:
    """Enabled routers of the tenants that use routers (tenant by tenant, each scoped)."""
    routers: list[Router] = []
    for tenant in Tenant.objects.filter(uses_routers=True, is_active=True):
        queryset = Router.objects.for_tenant(tenant).filter(enabled=True)
        if router_ids is not None:
            queryset = queryset.filter(pk__in=router_ids)
        for router in queryset:
            router.tenant = tenant  # no query per router for its tenant
            routers.append(router)
    return routers


def audit_due(router: Router, now: datetime) -> bool:
    return (
        router.audit_due
        or router.is_reachable is not True
        or router.last_audit_at is None
        or router.last_audit_at < now - AUDIT_INTERVAL
    )


def plan(routers: list[Router], now: datetime) -> list[RouterPlan]:
    full = {r.pk for r in routers if audit_due(r, now)}
    partial = [r.pk for r in routers if r.pk not in full]
    desired: dict[int, list[DesiredSecret]] = defaultdict(list)
    by_tenant: dict[int, list[int]] = defaultdict(list)
    for r in routers:
        by_tenant[r.tenant_id].append(r.pk)
    tenants = {r.tenant_id: r.tenant for r in routers}
    for tenant_id in by_tenant:
        condition = Q(router_id__in=[i for i in full if i in by_tenant[tenant_id]]) | (
            Q(router_id__in=[i for i in partial if i in by_tenant[tenant_id]])
            & (Q(enabled=False) | ~Q(sync_state=SyncState.SYNCED))
        )
        rows = (
            PppoeAccount.objects.for_tenant(tenants[tenant_id])
            .filter(condition)
            .values_list(
                "id",
                "router_id",
                "username",
                "password_encrypted",
                "profile",
                "enabled",
                "sync_state",
                "sync_version",
                "router_secret_id",
            )
        )
        for aid, rid, username, secret, profile, enabled, state, version, secret_id in rows:
            try:
                # An adopted secret whose password the router withheld has none stored: the
                # router's own is left as it is.
                password = crypto.decrypt(secret) or None
            except crypto.SecretUnreadable:
                password = None
            desired[rid].append(
                DesiredSecret(
                    account_id=aid,
                    username=username,
                    profile=profile,
                    enabled=enabled,
                    pending=state != SyncState.SYNCED,
                    version=version,
                    password=password,
                    secret_id=secret_id,
                )
            )
    plans = []
    for router in routers:
        try:
            target = RouterTarget.of(router)
            error = None
        except crypto.SecretUnreadable:
            target, error = None, secret_unreadable_error()
        plans.append(
            RouterPlan(
                router_id=router.pk,
                tenant_id=router.tenant_id,
                target=target,
                desired=desired.get(router.pk, []),
                full_audit=router.pk in full,
                error=error,
            )
        )
    return plans


# -- talking to one router (in a pool thread; no database here) --------------------------------
class Watch:
    """The open connections of a cycle, so that the overall deadline can cut them off."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections: dict[int, RouterConnection] = {}
        self.cut: set[int] = set()

    def register(self, router_id: int, conn: RouterConnection) -> None:
        with self.lock:
            if router_id in self.cut:
                raise RouterError(
                    PollErrorKind.TIMEOUT, stored_gettext("The poll cycle ran out of time.")
                )
            self.connections[router_id] = conn

    def cut_off(self, router_id: int) -> None:
        with self.lock:
            self.cut.add(router_id)
            conn = self.connections.get(router_id)
        if conn is not None:
            conn.abort()


def poll_one(plan_: RouterPlan, *, deadline: float, watch: Watch | None = None) -> RouterOutcome:
    started = time.monotonic()
    outcome = RouterOutcome(
        router_id=plan_.router_id,
        tenant_id=plan_.tenant_id,
        ok=False,
        full_audit=plan_.full_audit,
    )
    if plan_.error is not None:
        outcome.error = plan_.error
        return outcome
    target = plan_.target
    own_deadline = min(deadline, started + 3 * target.timeout + 2)
    conn = RouterConnection(target, deadline=own_deadline)
    try:
        if watch is not None:
            watch.register(plan_.router_id, conn)
        conn.open()
        try:
            active = conn.active_sessions()
            outcome.reconciled = reconcile(
                conn, plan_.desired, active=active, full=plan_.full_audit
            )
            if plan_.full_audit:
                outcome.identity, outcome.version = conn.identity_and_version()
        finally:
            conn.close()
        outcome.kicked = kicked = outcome.reconciled.kicked
        outcome.active = [row for row in active if row.get("name") not in kicked]
        outcome.ok = True
    except RouterError as exc:
        error = exc
        if conn.transport is not None and conn.transport.aborted:
            error = RouterError(
                PollErrorKind.TIMEOUT,
                stored_gettext(
                    "%(host)s:%(port)s did not answer in time (the poll's deadline passed).",
                    host=target.host,
                    port=target.port,
                ),
            )
        outcome.error = error
    outcome.seconds = time.monotonic() - started
    return outcome


# -- writing the results -----------------------------------------------------------------------
def _clean(value, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def save_outcome(outcome: RouterOutcome, now: datetime) -> None:
    """Write one router's results in a bounded number of statements."""
    tenant = Tenant(pk=outcome.tenant_id)
    accounts = PppoeAccount.objects.for_tenant(tenant).filter(router_id=outcome.router_id)
    routers = Router.objects.for_tenant(tenant).filter(pk=outcome.router_id)
    with transaction.atomic():
        was_reachable, router_name = routers.values_list("is_reachable", "name").first() or (
            None,
            "",
        )
        if not outcome.ok:
            if was_reachable is not False:
                _record_reachability(tenant, outcome, router_name, now)
            accounts.update(
                status=ConnectionStatus.UNKNOWN, address="", caller_id="", uptime="", checked_at=now
            )
            error = outcome.error
            routers.update(
                is_reachable=False,
                last_polled_at=now,
                last_error=error.text if error else UNKNOWN_ERROR,
                last_error_kind=error.kind if error else PollErrorKind.NETWORK,
                sessions_online=None,
                audit_due=True,
            )
            return
        online: dict[str, dict] = {}
        for row in outcome.active:
            name = row.get("name")
            if isinstance(name, str | int) and str(name):
                online[str(name)] = row
        lines = _session_changes(accounts, outcome.router_id, online, now)
        if was_reachable is False:
            _record_reachability(tenant, outcome, router_name, now)
        if lines:
            events_record_bulk(tenant=tenant, lines=lines, actor_label=POLLER)
        _mark_online(accounts, outcome.router_id, online, now)
        _mark_not_online(accounts, online, outcome.kicked, now)
        result = outcome.reconciled
        if result is not None and result.synced:
            _mark_synced(accounts, result.synced, now)
        if result is not None and result.errors:
            _mark_errors(accounts, result.errors)
        fields = {
            "is_reachable": True,
            "last_polled_at": now,
            "last_success_at": now,
            "last_error": EMPTY_TEXT,
            "last_error_kind": PollErrorKind.NONE,
            "sessions_online": len(outcome.active),
        }
        if outcome.full_audit:
            fields.update(
                audit_due=False,
                last_audit_at=now,
                identity=_clean(outcome.identity, 255),
                version=_clean(outcome.version, 100),
            )
        routers.update(**fields)


POLLER = "router poller"  # the actor of the poller's events


def _record_reachability(tenant: Tenant, outcome: RouterOutcome, name: str, now: datetime) -> None:
    """router.unreachable when a router that answered (or was never polled) does not,
    router.reachable when one that did not answers again: changes only, not every poll."""
    if outcome.ok:
        description = stored_gettext("Router %(name)s reachable again", name=name)
        kind, payload = "router.reachable", {}
    else:
        error = outcome.error
        text = error.text if error else UNKNOWN_ERROR
        kind = "router.unreachable"
        description = stored_gettext(
            "Router %(name)s unreachable: %(error)s", name=name, error=text
        )
        payload = {
            "error": _clean(text, 500),
            "kind": error.kind if error else PollErrorKind.NETWORK,
        }
    event_record(
        tenant=tenant,
        type=kind,
        object_type="router",
        object_id=outcome.router_id,
        actor_label=POLLER,
        description=description,
        payload={"router": outcome.router_id, "name": name, **payload},
        at=now,
    )


def _session_changes(accounts, router_id: int, online: dict[str, dict], now) -> list[EventLine]:
    """The sessions this poll saw start (an account not online before is in /ppp/active) and
    end (an account online before is not), in one query, as event lines."""
    names = list(online)
    changed = accounts.filter(
        (Q(username__in=names) & ~Q(status=ConnectionStatus.ONLINE))
        | (~Q(username__in=names) & Q(status=ConnectionStatus.ONLINE))
    ).values_list("pk", "client_id", "username", "status")
    lines = []
    for pk, client_id, username, status in changed:
        started = status != ConnectionStatus.ONLINE
        session = online.get(username, {})
        payload = {"router": router_id, "username": username}
        if started:
            payload |= {
                "address": _clean(session.get("address"), 64),
                "caller_id": _clean(session.get("caller-id"), 64),
            }
        lines.append(
            EventLine(
                type="pppoe.session_started" if started else "pppoe.session_ended",
                client_id=client_id,
                object_type="pppoe_account",
                object_id=pk,
                description=(
                    stored_gettext("PPPoE session of %(login)s started", login=username)
                    if started
                    else stored_gettext("PPPoE session of %(login)s ended", login=username)
                ),
                payload=payload,
                at=now,
            )
        )
    return lines


def _mark_online(accounts, router_id: int, online: dict[str, dict], now: datetime) -> None:
    if not online:
        return
    names = list(online)
    addresses = [_clean(online[n].get("address"), 64) for n in names]
    callers = [_clean(online[n].get("caller-id"), 64) for n in names]
    uptimes = [_clean(online[n].get("uptime"), 32) for n in names]
    if connection.vendor == "postgresql":
        table = PppoeAccount._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS a
                   SET status = %s, last_seen_at = %s, checked_at = %s,
                       address = s.address, caller_id = s.caller_id, uptime = s.uptime
                  FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])
                       AS s(username, address, caller_id, uptime)
                 WHERE a.router_id = %s AND a.username = s.username
                """,
                [
                    ConnectionStatus.ONLINE,
                    now,
                    now,
                    names,
                    addresses,
                    callers,
                    uptimes,
                    router_id,
                ],
            )
        return
    rows = list(accounts.filter(username__in=names).only("id", "username"))
    for account in rows:
        i = names.index(account.username)
        account.status = ConnectionStatus.ONLINE
        account.last_seen_at = account.checked_at = now
        account.address, account.caller_id, account.uptime = addresses[i], callers[i], uptimes[i]
    accounts.bulk_update(
        rows,
        ["status", "last_seen_at", "checked_at", "address", "caller_id", "uptime"],
        batch_size=500,
    )


def _mark_not_online(accounts, online: dict[str, dict], kicked: set[str], now: datetime) -> None:
    """In one statement: an account seen before (or whose session was just removed, so seen
    now) is Offline; one never seen in /ppp/active is Unknown: the client has never connected."""
    never_seen = Q(last_seen_at__isnull=True)
    last_seen = F("last_seen_at")
    if kicked:
        never_seen &= ~Q(username__in=list(kicked))
        last_seen = Case(When(username__in=list(kicked), then=Value(now)), default=last_seen)
    accounts.exclude(username__in=list(online)).update(
        status=Case(
            When(never_seen, then=Value(ConnectionStatus.UNKNOWN)),
            default=Value(ConnectionStatus.OFFLINE),
        ),
        last_seen_at=last_seen,
        address="",
        caller_id="",
        uptime="",
        checked_at=now,
    )


def _mark_synced(accounts, synced: dict[int, int], now: datetime) -> None:
    """Synced only where the desired state is still the version that was applied: a change
    made while the router was being written stays Pending for the next run."""
    ids, versions = list(synced), [synced[i] for i in synced]
    if connection.vendor == "postgresql":
        table = PppoeAccount._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS a SET sync_state = %s, sync_error = %s::jsonb, synced_at = %s
                  FROM unnest(%s::bigint[], %s::int[]) AS s(id, version)
                 WHERE a.id = s.id AND a.sync_version = s.version
                   AND (a.sync_state <> %s OR a.synced_at IS NULL)
                """,
                [SyncState.SYNCED, NO_SYNC_ERROR, now, ids, versions, SyncState.SYNCED],
            )
        return
    for version in set(versions):
        accounts.filter(
            pk__in=[i for i in ids if synced[i] == version], sync_version=version
        ).exclude(sync_state=SyncState.SYNCED).update(
            sync_state=SyncState.SYNCED, sync_error=EMPTY_TEXT, synced_at=now
        )


def _mark_errors(accounts, errors: dict[int, StoredText]) -> None:
    """The accounts the router refused, each with its message (stored, read in the reader's
    language), in one statement."""
    ids = list(errors)
    if connection.vendor == "postgresql":
        table = PppoeAccount._meta.db_table
        messages = [errors[i].to_json_text() for i in ids]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {table} AS a SET sync_state = %s, sync_error = s.message::jsonb
                  FROM unnest(%s::bigint[], %s::text[]) AS s(id, message)
                 WHERE a.id = s.id
                   AND (a.sync_state <> %s OR a.sync_error <> s.message::jsonb)
                """,
                [SyncState.ERROR, ids, messages, SyncState.ERROR],
            )
        return
    for account_id in ids:
        accounts.filter(pk=account_id).update(
            sync_state=SyncState.ERROR, sync_error=errors[account_id]
        )


# -- the cycle ---------------------------------------------------------------------------------
def _in_language(language, function, *args, **kwargs):
    """`function` in a pool thread, which starts in the default language, in `language`."""
    with translation.override(language):
        return function(*args, **kwargs)


def poll_routers(router_ids: list[int] | None = None, *, deadline_seconds: float | None = None):
    """One poll cycle over the enabled routers (or those of `router_ids`)."""
    started = time.monotonic()
    report = CycleReport()
    routers = routers_to_poll(router_ids)
    if not routers:
        return report
    deadline_seconds = deadline_seconds or setting("ROUTER_POLL_DEADLINE", 45)
    workers = int(setting("ROUTER_POLL_WORKERS", 16))
    deadline = started + deadline_seconds
    with router_locks([r.pk for r in routers]) as held:
        held_set = set(held)
        report.skipped = [r.pk for r in routers if r.pk not in held_set]
        now = timezone.now()
        plans = plan([r for r in routers if r.pk in held_set], now)
        watch = Watch()
        pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(plans))))
        # Each thread speaks the caller's language: a poll an operator asked for reports its
        # errors in the operator's language.
        language = translation.get_language()
        futures: dict[Future, RouterPlan] = {
            pool.submit(_in_language, language, poll_one, p, deadline=deadline, watch=watch): p
            for p in plans
        }
        try:
            pending = set(futures)
            while pending:
                left = deadline - time.monotonic()
                done, pending = wait(pending, timeout=max(0, left), return_when=FIRST_COMPLETED)
                for future in done:
                    _record(report, future.result(), timezone.now())
                if pending and time.monotonic() >= deadline:
                    for future in pending:
                        watch.cut_off(futures[future].router_id)
                    # A cut connection fails at once; give the threads a moment to notice.
                    done, pending = wait(pending, timeout=2)
                    for future in done:
                        _record(report, future.result(), timezone.now())
                    for future in pending:
                        p = futures[future]
                        future.cancel()
                        _record(
                            report,
                            RouterOutcome(
                                router_id=p.router_id,
                                tenant_id=p.tenant_id,
                                ok=False,
                                error=RouterError(
                                    PollErrorKind.TIMEOUT,
                                    stored_gettext(
                                        "The router did not answer before the poll's deadline."
                                    ),
                                ),
                            ),
                            timezone.now(),
                        )
                    pending = set()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    report.seconds = time.monotonic() - started
    logger.info(
        "Router poll: %d polled, %d reachable, %d skipped (already polling), %.2fs",
        report.polled,
        report.reachable,
        len(report.skipped),
        report.seconds,
    )
    return report


def _record(report: CycleReport, outcome: RouterOutcome, now: datetime) -> None:
    save_outcome(outcome, now)
    router_poll_observed(reachable=outcome.ok, seconds=outcome.seconds)
    report.polled += 1
    if outcome.ok:
        report.reachable += 1
    else:
        report.errors[outcome.router_id] = outcome.error.message if outcome.error else "error"
        logger.warning("Router %s: %s", outcome.router_id, report.errors[outcome.router_id])

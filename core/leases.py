"""Leases of the records of work a worker does (an export, a run of a scheduled job).

A worker that claims a record holds its lease until `lease_expires_at` and renews it while it
works (a heartbeat), or, for work that cannot report while it runs, gets a deadline the task
cannot outlive (the hard time limit). A worker killed by the OOM killer or a restart renews
nothing, so its lease expires; then the next task for the record, or beat's sweep
(`leases_sweep`), takes the record over: it restarts the work, or fails it with a reason the
operator reads once `LEASE_MAX_ATTEMPTS` claims were interrupted. Nothing stays `running` past
its lease.

`attempts` is the fencing token: each claim adds one, and renew, finish and fail apply only while
it is unchanged, so a worker that lost its lease (too slow, taken over) can no longer write over
the work of the one that took it.

A leased model has `status`, `error` and `finished_at` fields of its own; it names its status
values in LEASE_QUEUED (None when it has no queued state), LEASE_RUNNING and LEASE_FAILED. The
error is a `StoredTextField` (core/stored_text.py): a worker or beat writes the reason once, in
no one's language, and each operator reads it in their own, so every reason given here is a
StoredText and a plain string is refused.
"""

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .stored_text import StoredText, stored_ngettext, stored_text_required

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The record was taken over (or finished) by another worker: stop without writing."""


class WorkStopped(Exception):
    """The work cannot go on for a reason the operator reads (the export's client was deleted,
    the operator who started it left): raised by a job's work, it fails the job with `reason`,
    a stored message read in each reader's language."""

    def __init__(self, reason: StoredText) -> None:
        stored_text_required(reason, what="Why the work stopped")
        super().__init__(reason.msgid)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.reason)


class Leased(models.Model):
    """Mixin of the records of work: the lease, its last heartbeat and the number of claims."""

    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Until when the worker that runs it holds it."),
        verbose_name=_("lease expires at"),
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last heartbeat at"))
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text=_("Claims so far."), verbose_name=_("attempts")
    )

    LEASE_QUEUED: str | None = "queued"
    LEASE_RUNNING = "running"
    LEASE_FAILED = "failed"
    LEASE_MAX_ATTEMPTS = 3

    class Meta:
        abstract = True

    @classmethod
    def lease_duration(cls) -> timedelta:
        return timedelta(seconds=settings.JOB_LEASE_SECONDS)

    @classmethod
    def lease_interrupted_reason(cls, attempts: int) -> StoredText:
        """What the operator reads on a record whose worker stopped and that was given up."""
        return stored_ngettext(
            "The worker stopped during this work (%(count)s time: restarted or out of memory).",
            "The worker stopped during this work (%(count)s times: restarted or out of memory).",
            attempts,
        )

    def lease_on_expired(self, lease: "Lease", now: datetime) -> str:
        """What the sweep does with this record once its lease expired: fail it (here) or
        queue it again (a model that can restart its work overrides this). Returns what it
        did: "failed", "requeued" or "" when another worker got there first."""
        reason = self.lease_interrupted_reason(lease.attempt)
        return "failed" if lease_fail(lease, reason, expired_before=now) else ""


@dataclass(frozen=True)
class Lease:
    """One claim of one record: the token that renew, finish and fail need."""

    model: type[Leased]
    pk: int
    attempt: int

    def rows(self, expired_before: datetime | None = None):
        rows = self.model._base_manager.filter(
            pk=self.pk, attempts=self.attempt, status=self.model.LEASE_RUNNING
        )
        if expired_before is not None:
            rows = rows.filter(_expired(expired_before))
        return rows


def _expired(now: datetime) -> Q:
    # A running record without a lease predates leases: its worker is long gone.
    return Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True)


def _claimable(model: type[Leased], now: datetime) -> Q:
    expired_running = Q(status=model.LEASE_RUNNING) & _expired(now)
    if model.LEASE_QUEUED is None:
        return expired_running
    return Q(status=model.LEASE_QUEUED) | expired_running


def _lease_fields(model: type[Leased], now: datetime) -> dict:
    return {"lease_expires_at": now + model.lease_duration(), "heartbeat_at": now}


def lease_create(queryset, *, now: datetime | None = None, **fields) -> tuple[Leased, Lease]:
    """Create a record already running under a lease held by the caller (work that is not
    queued first, e.g. a scheduled job's run)."""
    now = now or timezone.now()
    model = queryset.model
    record = queryset.create(
        status=model.LEASE_RUNNING, attempts=1, **_lease_fields(model, now), **fields
    )
    return record, Lease(model, record.pk, 1)


def lease_claim(model: type[Leased], pk: int, *, now=None, **changes) -> Lease | None:
    """Claim a queued record, or take over a running one whose lease expired, for this worker
    only (one conditional UPDATE on the number of attempts: of two claims at once one wins).
    None when the record is finished, or running under a live lease. A record taken over
    after LEASE_MAX_ATTEMPTS interrupted claims is failed with its reason instead."""
    now = now or timezone.now()
    rows = model._base_manager.filter(pk=pk)
    current = rows.filter(_claimable(model, now)).values_list("attempts", flat=True).first()
    if current is None:
        return None
    if current >= model.LEASE_MAX_ATTEMPTS:
        reason = model.lease_interrupted_reason(current)
        lease_fail(Lease(model, pk, current), reason, now=now, expired_before=now)
        return None
    won = (
        rows.filter(_claimable(model, now), attempts=current).update(
            status=model.LEASE_RUNNING,
            attempts=current + 1,
            **_lease_fields(model, now),
            **changes,
        )
        == 1
    )
    return Lease(model, pk, current + 1) if won else None


def lease_renew(lease: Lease, **changes) -> None:
    """The heartbeat: extend the lease (with any progress in `changes`, in the same UPDATE).
    Raises LeaseLost when another worker took the record over."""
    now = timezone.now()
    if not lease.rows().update(**_lease_fields(lease.model, now), **changes):
        raise LeaseLost(f"{lease.model.__name__} {lease.pk} attempt {lease.attempt}")


@contextmanager
def lease_heartbeat(lease: Lease):
    """Renews the lease every third of its length from a thread of its own while the block runs,
    so that work which cannot report for a while (a slow first query, saving a large file) is
    not taken for a dead worker. A killed process renews nothing, so its lease still expires.
    The thread stops quietly when the lease was lost; the work learns it at its next renewal."""
    stop = threading.Event()
    every = lease.model.lease_duration().total_seconds() / 3

    def beat():
        try:
            while not stop.wait(every):
                try:
                    lease_renew(lease)
                except LeaseLost:
                    return
                except Exception:  # a busy database: the next beat tries again
                    logger.warning("Lease heartbeat of %s failed", lease, exc_info=True)
        finally:
            connection.close()  # the thread's own database connection

    thread = threading.Thread(target=beat, name=f"lease-{lease.model.__name__}-{lease.pk}")
    thread.daemon = True
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _stopped_reason(exc: Exception, reasons) -> StoredText | None:
    if isinstance(exc, WorkStopped):
        return exc.reason
    return next((message(exc) for kind, message in reasons if isinstance(exc, kind)), None)


@contextmanager
def lease_worked(lease: Lease, *, label: str, failed: StoredText, reasons=()):
    """Do a claimed job's work under its heartbeat, and end it the one way every leased job
    ends: a worker that lost the lease stops quietly; `WorkStopped`, or an error of `reasons`
    (pairs of exception class and a function giving the operator's message, a StoredText),
    fails the job with that message; any other error is logged (with its traceback, which is
    not for the operator) and fails it with `failed`, a plain request to try again. `label`
    names the job in the log."""
    try:
        with lease_heartbeat(lease):
            yield
    except LeaseLost:
        logger.warning("%s was taken over by another worker; this one stops", label)
    except Exception as exc:
        reason = _stopped_reason(exc, reasons)
        if reason is None:
            logger.exception("%s failed", label)
            reason = failed
        lease_fail(lease, reason)


def leased_job_run(job: Leased, run, *, label: str, failed: StoredText, reasons=()) -> Leased:
    """A worker's whole part in a leased job: claim it (or take over one whose worker died),
    `run(job, lease)` under `lease_worked`, and return the job as it then stands. A job another
    worker holds is returned as it is, untouched."""
    lease = lease_claim(type(job), job.pk)
    job.refresh_from_db()
    if lease is not None:
        with lease_worked(lease, label=label, failed=failed, reasons=reasons):
            run(job, lease)
        job.refresh_from_db()
    return job


def lease_finish(lease: Lease, *, status: str, now=None, expired_before=None, **changes) -> bool:
    """End the work with `status`; False when this worker no longer holds the record."""
    now = now or timezone.now()
    return bool(
        lease.rows(expired_before).update(
            status=status, finished_at=now, lease_expires_at=None, **changes
        )
    )


def lease_fail(lease: Lease, reason: StoredText, **kwargs) -> bool:
    """Fail the work with a reason the operator reads (a StoredText); False when no longer
    held."""
    stored_text_required(reason, what="Why the work failed")
    return lease_finish(lease, status=lease.model.LEASE_FAILED, error=reason, **kwargs)


def lease_requeue(lease: Lease, now: datetime) -> bool:
    """Put a record whose lease expired back in the queue (the claim of the next task adds
    an attempt); False when another worker took it or it has no queued state."""
    if lease.model.LEASE_QUEUED is None:
        return False
    return bool(
        lease.rows(expired_before=now).update(
            status=lease.model.LEASE_QUEUED, lease_expires_at=None, heartbeat_at=None
        )
    )


def lease_requeue_or_fail(lease: Lease, now: datetime, *, queue) -> str:
    """The sweep found a record's lease expired: queue its work again (`queue()`, after the
    commit; it resumes where its last committed step left it), or fail it with its reason once
    it was interrupted LEASE_MAX_ATTEMPTS times. Returns "requeued", "failed", or "" when
    another worker got there first: what `Leased.lease_on_expired` returns."""
    if lease.attempt >= lease.model.LEASE_MAX_ATTEMPTS:
        reason = lease.model.lease_interrupted_reason(lease.attempt)
        return "failed" if lease_fail(lease, reason, now=now, expired_before=now) else ""
    if not lease_requeue(lease, now):
        return ""
    transaction.on_commit(queue)
    return "requeued"


def leases_fail_running(queryset, reason: StoredText) -> int:
    """Fail every running record of `queryset`, whatever its lease: for a caller that knows
    their workers are gone (it holds the lock they held while they ran)."""
    stored_text_required(reason, what="Why the work failed")
    model = queryset.model
    return queryset.filter(status=model.LEASE_RUNNING).update(
        status=model.LEASE_FAILED, error=reason, finished_at=timezone.now(), lease_expires_at=None
    )


def leased_models() -> list[type[Leased]]:
    return [m for m in apps.get_models() if issubclass(m, Leased)]


def leases_sweep(now: datetime | None = None) -> dict[str, int]:
    """Beat: every record of every leased model still running past its lease is failed or
    queued again (its `lease_on_expired`), so that recovery does not wait for the broker to
    redeliver a task. Returns how many records each outcome had."""
    now = now or timezone.now()
    outcomes: dict[str, int] = {}
    for model in leased_models():
        expired = model._base_manager.filter(_expired(now), status=model.LEASE_RUNNING)
        for record in expired.order_by("pk").iterator(chunk_size=500):
            outcome = record.lease_on_expired(Lease(model, record.pk, record.attempts), now)
            if outcome:
                logger.warning("%s %s: lease expired, %s", model.__name__, record.pk, outcome)
                key = f"{model._meta.label_lower}:{outcome}"
                outcomes[key] = outcomes.get(key, 0) + 1
    return outcomes

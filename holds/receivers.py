"""What holds hears from the apps below it.

billing's `funds_changed` (billing/signals.py), once per posted chunk or credit change, inside
its transaction, while billing holds the account row locks: the work is done only when funds
cross zero (one statement for all the chunk's accounts that did), so that an ordinary charge
costs the ledger no extra query:
- funds went below zero: a FundsShortfall row with the posting's time (the grace period starts);
- funds came back to zero or more: the row goes.

billing's `funds_changed_committed`, after the commit: when money came in (a top-up, refund,
reversal or a higher credit limit), funds are not negative and the client's status was not
Active when billing locked its account (an Active client has no hold in force, so that the
common top-up costs nothing here; a hold missed this way is lifted by the financial job), the
financial holds of those clients are lifted (`financial_holds_release_if_funded`: one query
for the chunk, then a release for each client that has one), in a transaction of its own
that locks the client, so that a posting never waits on a client row (a purchase locks client
then account; this order stays the same).

subscriptions' `subscriptions_changed` and clients' `client_deleted` (after their commits):
this app owns access, so it alone sends `client_access_changed`, once per change
(`access_follow_subscriptions`, `access_cut_for_deleted`).

subscriptions' `expiry_done` hook (inside the expiry run's transaction): the e-mails of what
expired and what is about to, and financial holds after failed renewals (`expiry_follow_up`).
"""

from decimal import Decimal

from core.sql import array_param, bound_cursor, is_postgresql

from .models import FundsShortfall
from .services import (
    access_cut_for_deleted,
    access_cut_for_deleted_many,
    access_follow_subscriptions,
    expiry_follow_up,
    financial_holds_release_if_funded,
)

ZERO = Decimal("0")


def funds_changed(sender, *, tenant, changes, **kwargs):
    """At most two statements for a whole chunk, none when no account crossed zero."""
    below = [c for c in changes if c.before >= ZERO > c.after]
    back = [c.client_id for c in changes if c.before < ZERO <= c.after]
    if below:
        _shortfalls_start(tenant, below)
    if back:
        FundsShortfall.objects.for_tenant(tenant).filter(client_id__in=back).delete()


_SHORTFALLS_SQL = (
    f"INSERT INTO {FundsShortfall._meta.db_table} (tenant_id, client_id, since) "  # noqa: S608 - names are ours
    f"SELECT %s, * FROM unnest({array_param('bigint')}, {array_param('timestamptz')}) "
    "ON CONFLICT DO NOTHING"
)


def _shortfalls_start(tenant, changes) -> None:
    """Since when these clients' funds are negative (a row each, kept if there is one)."""
    if not is_postgresql():  # the SQLite demo: the ORM's insert
        FundsShortfall.objects.for_tenant(tenant).bulk_create(
            [FundsShortfall(tenant=tenant, client_id=c.client_id, since=c.at) for c in changes],
            ignore_conflicts=True,
        )
        return
    with bound_cursor() as cursor:
        cursor.execute(
            _SHORTFALLS_SQL, [tenant.pk, [c.client_id for c in changes], [c.at for c in changes]]
        )


def funds_changed_committed(sender, *, tenant, changes, **kwargs):
    funded = [
        c.client_id
        for c in changes
        if c.after > c.before and c.after >= ZERO and not c.client_active
    ]
    if funded:
        financial_holds_release_if_funded(tenant=tenant, client_ids=funded)


def expiry_run_done(sender, tenant, now, today, expired, failed_renewals, **kwargs) -> dict:
    return expiry_follow_up(
        tenant=tenant, now=now, today=today, expired=expired, failed_renewals=failed_renewals
    )


def subscriptions_changed(sender, *, tenant, client_ids, active: bool, reason: str, **kwargs):
    access_follow_subscriptions(tenant=tenant, client_ids=client_ids, active=active, reason=reason)


def client_deleted(sender, *, tenant, client, **kwargs):
    access_cut_for_deleted(client=client)


def clients_deleted(sender, *, tenant, client_ids, **kwargs):
    access_cut_for_deleted_many(tenant=tenant, client_ids=client_ids)

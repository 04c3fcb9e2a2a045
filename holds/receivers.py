"""What holds hears from the apps below it.

billing's `funds_changed` (billing/signals.py), inside the posting's or the credit change's
transaction, while billing holds the account row lock: the work is done only when funds cross
zero, so that an ordinary charge costs the ledger no extra query:
- funds went below zero: a FundsShortfall row with the posting's time (the grace period starts);
- funds came back to zero or more: the row goes.

billing's `funds_changed_committed`, after the commit: when money came in (a top-up, refund,
reversal or a higher credit limit) and funds are not negative, the financial hold is lifted
(`financial_hold_release_if_funded`), in a transaction of its own that locks the client, so
that a posting never waits on a client row (a purchase locks client then account; this order
stays the same).

subscriptions' `subscriptions_changed` and clients' `client_deleted` (after their commits):
this app owns access, so it alone sends `client_access_changed`, once per change
(`access_follow_subscriptions`, `access_cut_for_deleted`).

subscriptions' `expiry_done` hook (inside the expiry run's transaction): the e-mails of what
expired and what is about to, and financial holds after failed renewals (`expiry_follow_up`).
"""

from decimal import Decimal

from .models import FundsShortfall
from .services import (
    access_cut_for_deleted,
    access_follow_subscriptions,
    expiry_follow_up,
    financial_hold_release_if_funded,
)

ZERO = Decimal("0")


def funds_changed(sender, *, tenant, client_id, before: Decimal, after: Decimal, at, **kwargs):
    shortfalls = FundsShortfall.objects.for_tenant(tenant)
    if before >= ZERO > after:
        shortfalls.bulk_create(
            [FundsShortfall(tenant=tenant, client_id=client_id, since=at)], ignore_conflicts=True
        )
    elif before < ZERO <= after:
        shortfalls.filter(client_id=client_id).delete()


def funds_changed_committed(sender, *, tenant, client_id, before: Decimal, after: Decimal, **kw):
    if after > before and after >= ZERO:
        financial_hold_release_if_funded(tenant=tenant, client_id=client_id)


def expiry_run_done(sender, tenant, now, today, expired, failed_renewals, **kwargs) -> dict:
    return expiry_follow_up(
        tenant=tenant, now=now, today=today, expired=expired, failed_renewals=failed_renewals
    )


def subscriptions_changed(sender, *, tenant, client_ids, active: bool, reason: str, **kwargs):
    access_follow_subscriptions(tenant=tenant, client_ids=client_ids, active=active, reason=reason)


def client_deleted(sender, *, tenant, client, **kwargs):
    access_cut_for_deleted(client=client)

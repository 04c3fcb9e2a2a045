"""Receivers on billing's writes: available funds (balance + credit limit) changed.

They run inside the posting's transaction, where billing holds the account row lock, and do
work only when funds cross zero (or money came in), so that an ordinary charge costs the
ledger no extra query:
- funds went below zero: a FundsShortfall row with the posting's time (the grace period starts);
- funds came back to zero or more: the row goes;
- money came in (a top-up, refund, reversal or a higher credit limit) and funds are >= 0: right
  after the commit, the financial hold is lifted (`financial_hold_release_if_funded`), in a
  transaction of its own that locks the client, so that the posting never waits on a client row
  (a purchase locks client then account; this order stays the same).

And on subscriptions' `expiry_done` hook (inside the expiry run's transaction): the e-mails of
what expired and what is about to, and financial holds after failed renewals
(`expiry_follow_up`).
"""

from decimal import Decimal

from django.db import transaction

ZERO = Decimal("0")


def _track(tenant, client_id, before: Decimal, after: Decimal, at) -> None:
    from .models import FundsShortfall

    shortfalls = FundsShortfall.objects.for_tenant(tenant)
    if before >= ZERO > after:
        shortfalls.bulk_create(
            [FundsShortfall(tenant=tenant, client_id=client_id, since=at)], ignore_conflicts=True
        )
    elif before < ZERO <= after:
        shortfalls.filter(client_id=client_id).delete()


def _release_after_commit(tenant, client_id) -> None:
    def release():
        from .services import financial_hold_release_if_funded

        financial_hold_release_if_funded(tenant=tenant, client_id=client_id)

    transaction.on_commit(release)


def ledger_entry_posted(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    account = instance.account  # billing's locked row: its credit limit is current
    after = instance.balance_after + account.credit_limit
    before = after - instance.amount
    _track(instance.tenant, account.client_id, before, after, instance.created_at)
    if instance.amount > 0 and after >= ZERO:
        _release_after_commit(instance.tenant, account.client_id)


def credit_limit_changed(sender, instance, created, raw=False, **kwargs):
    if not created or raw:
        return
    account = instance.account  # locked; its balance is current, its limit still the old one
    before = account.balance + instance.old_limit
    after = account.balance + instance.new_limit
    _track(instance.tenant, account.client_id, before, after, instance.created_at)
    if instance.new_limit > instance.old_limit and after >= ZERO:
        _release_after_commit(instance.tenant, account.client_id)


def expiry_run_done(sender, tenant, now, today, expired, failed_renewals, **kwargs) -> dict:
    from .services import expiry_follow_up

    return expiry_follow_up(
        tenant=tenant, now=now, today=today, expired=expired, failed_renewals=failed_renewals
    )

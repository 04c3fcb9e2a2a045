"""Signals of the clients app, and the receivers that write billing events to the activity.

`client_access_changed` is the one place where other apps learn that a client's service
should be cut or restored (the routers app disables or enables the PPPoE secret). It is sent
after the transaction that made the change has committed (`transaction.on_commit`), with:

- `sender`: the module or service that decided it (a string, e.g. "subscriptions");
- `tenant`, `client`: who;
- `access`: True when the client should have access again, False when it should be cut;
- `reason`: a short machine reason: "subscription_created", "subscription_cancelled",
  "subscription_resumed", "subscriptions_suspended", "client_deleted", and, from the holds
  app, "hold_set", "hold_released", "subscription_expired", "subscription_renewed".

Receivers must be idempotent: the desired state is given, not a delta. A scheduled job that
changes many clients sends it with `send_client_access_changed_later`: after the commit, from
Celery tasks in chunks (clients/tasks.py), so that the job's own run stays a fixed number of
statements.
"""

from django.db import transaction
from django.dispatch import Signal

client_access_changed = Signal()

# How each reason reads on screen (an account disabled on the router says why in these words).
ACCESS_REASON_LABELS = {
    "subscription_created": "subscription bought",
    "subscription_cancelled": "subscription cancelled",
    "subscription_resumed": "subscription resumed",
    "subscriptions_suspended": "subscriptions suspended",
    "subscription_expired": "subscription expired",
    "subscription_renewed": "subscription renewed",
    "client_deleted": "client deleted",
    "hold_set": "client on hold",
    "hold_released": "hold released",
}


def access_reason_label(reason: str) -> str:
    """The words for a reason of `client_access_changed`; an unknown one reads as itself,
    without underscores."""
    return ACCESS_REASON_LABELS.get(reason, reason.replace("_", " "))


# Billing entries recorded in the activity. Subscription purchases and refunds are recorded by
# the subscriptions services themselves (with the package and period), and daily messaging
# charges would drown the timeline.
LEDGER_KINDS_IN_ACTIVITY = {"top_up", "adjustment", "refund", "reversal"}
OWN_KEY_PREFIXES = ("sub-",)


def send_client_access_changed(*, sender: str, client, access: bool, reason: str) -> None:
    """Send `client_access_changed` once the current transaction commits."""

    def send():
        client_access_changed.send(
            sender=sender, tenant=client.tenant, client=client, access=access, reason=reason
        )

    transaction.on_commit(send)


ACCESS_FANOUT_CHUNK = 500


def send_client_access_changed_later(
    *, sender: str, tenant, client_ids, access: bool, reason: str
) -> None:
    """Send `client_access_changed` for many clients after the commit, from Celery tasks of
    ACCESS_FANOUT_CHUNK clients each."""
    client_ids = sorted(set(client_ids))
    if not client_ids:
        return
    from .tasks import client_access_fanout

    tenant_id = tenant.pk
    for start in range(0, len(client_ids), ACCESS_FANOUT_CHUNK):
        ids = client_ids[start : start + ACCESS_FANOUT_CHUNK]
        transaction.on_commit(
            lambda ids=ids: client_access_fanout.delay(tenant_id, ids, access, reason, sender)
        )


def client_access_changed_send_many(
    *, tenant, client_ids, access: bool, reason: str, sender: str
) -> int:
    """The fan-out task's work: one query for the clients, then the signal for each."""
    from .models import Client

    count = 0
    for client in Client.objects.for_tenant(tenant).filter(pk__in=client_ids):
        client.tenant = tenant
        client_access_changed.send(
            sender=sender, tenant=tenant, client=client, access=access, reason=reason
        )
        count += 1
    return count


def record_ledger_entry(sender, instance, created, raw=False, **kwargs):
    """post_save of billing.LedgerEntry: top-ups, adjustments, refunds and reversals."""
    if not created or raw or instance.kind not in LEDGER_KINDS_IN_ACTIVITY:
        return
    if instance.idempotency_key.startswith(OWN_KEY_PREFIXES):
        return
    from .services import activity_record

    currency = instance.tenant.currency
    label = instance.get_kind_display()
    description = f"{label} {abs(instance.amount):,.2f} {currency}"
    description += f", balance {instance.balance_after:,.2f} {currency}"
    if instance.comment:
        description += f" ({instance.comment})"
    activity_record(
        tenant=instance.tenant,
        client_id=instance.account.client_id,
        actor=instance.operator,
        verb=instance.kind,
        description=description,
        data={
            "entry": instance.pk,
            "amount": str(instance.amount),
            "balance_after": str(instance.balance_after),
        },
        at=instance.created_at,
    )


def record_credit_limit_change(sender, instance, created, raw=False, **kwargs):
    """post_save of billing.CreditLimitChange."""
    if not created or raw:
        return
    from .services import activity_record

    currency = instance.tenant.currency
    activity_record(
        tenant=instance.tenant,
        client_id=instance.account.client_id,
        actor=instance.operator,
        verb="credit_limit_changed",
        description=(
            f"Credit limit {instance.old_limit:,.2f} → {instance.new_limit:,.2f} {currency}"
        ),
        data={"old": str(instance.old_limit), "new": str(instance.new_limit)},
        at=instance.created_at,
    )

"""Signals of the clients app: what other apps learn about a client's access.

`client_access_changed` is the one place where other apps learn that a client's service
should be cut or restored (the routers app disables or enables the PPPoE secret). Only the
holds app sends it (it owns access: holds, and what subscriptions and deletions change, which
it hears through `subscriptions_changed` and `client_deleted`), once per change, after the
transaction that made the change has committed (`transaction.on_commit`), with:

- `sender`: "holds";
- `tenant`, `client`: who;
- `access`: True when the client should have access again, False when it should be cut;
- `reason`: a short machine reason: "hold_set", "hold_released", "subscription_created",
  "subscription_renewed", "subscription_cancelled", "subscription_expired", "client_deleted".

Receivers must be idempotent: the desired state is given, not a delta. A scheduled job that
changes many clients sends it with `send_client_access_changed_later`: after the commit, from
Celery tasks in chunks (clients/tasks.py), so that the job's own run stays a fixed number of
statements.
"""

from django.db import transaction
from django.dispatch import Signal

from .models import Client

client_access_changed = Signal()
# The reason of a cut for a hold: also the disabled reason an account keeps while it lasts.
HOLD_ACCESS_REASON = "hold_set"

# Sent after the commit when a client is deleted: `tenant`, `client`. The holds app, which
# owns access, cuts the client's service.
client_deleted = Signal()

# Sent after the commit of a bulk deletion's chunk: `tenant`, `client_ids`. The holds app cuts
# those clients' service, from Celery tasks in chunks.
clients_deleted = Signal()

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
    from .tasks import client_access_fanout  # the task sends this signal: a circle

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
    count = 0
    for client in Client.objects.for_tenant(tenant).filter(pk__in=client_ids):
        client.tenant = tenant
        client_access_changed.send(
            sender=sender, tenant=tenant, client=client, access=access, reason=reason
        )
        count += 1
    return count


# Sent in the transaction of a bulk creation (the client import) with `tenant` and
# `client_ids`: what a post_save receiver of Client would do for each, done for the set
# (billing opens their accounts).
clients_bulk_created = Signal()

"""After a transaction that wrote events commits, its tenant's webhooks fan out.

The services call `events_written(tenant)` whenever they write events (events/services.py does
it for every writer): it registers one callback per transaction and tenant, and runs no query.
After the commit the callback queues the fan-out of the events written since shortly before the
first of them, when the tenant has an active endpoint (known from a per-process memory
refreshed every half minute, so a tenant without endpoints costs a query at most twice a
minute). A fan-out lost with its process, or missed while the memory was stale, is made up by
beat's sweep (events.webhooks.webhooks_fan_out_sweep).
"""

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .webhook_models import WebhookEndpoint

REMEMBERED_FOR_SECONDS = 30.0
# Events are stamped before their INSERT; the fan-out reads from a little before the first.
FAN_OUT_MARGIN = timedelta(seconds=5)

_has_endpoints: dict[int, tuple[float, bool]] = {}


def forget(tenant) -> None:
    """The tenant's endpoints changed: ask the database again next time."""
    _has_endpoints.pop(tenant.pk, None)


def _tenant_has_active_endpoints(tenant_id: int) -> bool:
    now = time.monotonic()
    known = _has_endpoints.get(tenant_id)
    if known is not None and now - known[0] < REMEMBERED_FOR_SECONDS:
        return known[1]
    found = WebhookEndpoint.objects.for_tenant(tenant_id).filter(is_active=True).exists()
    _has_endpoints[tenant_id] = (now, found)
    return found


def _registered(connection, tenant_id: int) -> bool:
    return any(
        getattr(callback, "webhooks_tenant_id", None) == tenant_id
        for _, callback, _ in connection.run_on_commit
    )


def events_written(tenant) -> None:
    """Called in the transaction that wrote the tenant's events: costs no query there (a
    posting calls it inside its account lock); the callback after the commit asks whether the
    tenant has an endpoint."""
    connection = transaction.get_connection()
    if _registered(connection, tenant.pk):
        return
    since = timezone.now() - FAN_OUT_MARGIN

    def fan_out():
        if not _tenant_has_active_endpoints(tenant.pk):
            return  # before the import: a process that never queues a fan-out never loads it
        from .tasks import webhooks_fan_out_run  # the tasks import the services, which call this

        webhooks_fan_out_run.delay(tenant.pk, since.isoformat())

    fan_out.webhooks_tenant_id = tenant.pk
    transaction.on_commit(fan_out)

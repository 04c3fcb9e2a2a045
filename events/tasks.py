"""Celery entry points of events, on the project's task base (core/tasks.py). Beat's
schedule is in config/celery.py."""

from datetime import datetime

from django.conf import settings

from core.jobs import job_run_result
from core.tasks import project_task, tenant_task, tenants_fan_out

from . import webhooks
from .mail import emails_due, emails_send
from .outbox import SEND_CHUNK
from .services import EVENTS_PRUNE_JOB


@tenant_task()
def events_prune_run(tenant) -> dict | None:
    return job_run_result(tenant=tenant, job=EVENTS_PRUNE_JOB)


@project_task
def events_prune_run_all() -> int:
    """Beat: one run per active tenant."""
    return tenants_fan_out(events_prune_run)


# -- webhooks (events/webhooks.py) -------------------------------------------------------------
@tenant_task()
def webhooks_fan_out_run(tenant, since: str) -> int:
    """After a commit that wrote events: their deliveries, then their sends."""
    return webhooks.webhooks_fan_out(tenant=tenant, since=datetime.fromisoformat(since))


# A delivery's work is one POST with its timeout (connection and answer): the limits keep the
# task well inside its lease, so a live delivery is never taken for a dead one.
@tenant_task(
    soft_time_limit=3 * settings.WEBHOOK_TIMEOUT_SECONDS,
    time_limit=3 * settings.WEBHOOK_TIMEOUT_SECONDS + 10,
)
def webhook_delivery_send_run(tenant, delivery_pk: int) -> str:
    return webhooks.webhook_delivery_send(tenant=tenant, delivery_pk=delivery_pk)


@project_task
def webhooks_dispatch_run() -> int:
    """Beat: send the deliveries that are due (retries, and those whose worker died and the
    lease sweep put back)."""
    return webhooks.webhooks_dispatch()


@project_task
def webhooks_fan_out_sweep_run() -> int:
    """Beat: make up fan-outs lost after their commit."""
    return webhooks.webhooks_fan_out_sweep()


@tenant_task(gone=0, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def outbox_emails_send(tenant, ids: list[int]) -> int:
    """Send owed e-mails (queued at the commit of the change that owes them)."""
    return emails_send(tenant=tenant, ids=ids)


@project_task
def outbox_emails_sweep() -> int:
    """Beat: send the e-mails no worker sent (its task was lost, a retry is due, or its
    sender died mid-send), one task per tenant and chunk. Returns how many are due."""
    due = emails_due()
    for tenant_id, ids in due.items():
        for start in range(0, len(ids), SEND_CHUNK):
            outbox_emails_send.delay(tenant_id, ids[start : start + SEND_CHUNK])
    return sum(len(ids) for ids in due.values())

"""Celery entry points of billing: thin (ids in, reload, return if gone, call a service), on
the project's task base (core/tasks.py)."""

from core.tasks import tenant_task


@tenant_task(
    model="billing.CreditLimitChange",
    gone=False,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=5,
)
def credit_limit_change_notify(change) -> bool:
    """E-mail the client about a credit-limit change. Sends once: the service marks the change
    notified in the same transaction, and a second run finds it marked."""
    from .services import credit_limit_change_send_notice  # it queues this task: a circle

    return credit_limit_change_send_notice(change=change)

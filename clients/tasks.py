"""Celery entry points of clients: thin, on the project's task base (core/tasks.py)."""

from core.tasks import tenant_task


@tenant_task(gone=0)
def client_access_fanout(
    tenant, client_ids: list[int], access: bool, reason: str, sender: str = "clients"
) -> int:
    """`client_access_changed` for a chunk of clients a job changed (clients/signals.py)."""
    from .signals import client_access_changed_send_many  # it queues this task: a circle

    return client_access_changed_send_many(
        tenant=tenant, client_ids=client_ids, access=access, reason=reason, sender=sender
    )

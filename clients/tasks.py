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


@tenant_task(model="clients.ClientImport")
def client_import_run(job) -> str:
    """Commit a previewed import (queued by `client_import_commit`, or again by the sweep)."""
    from .importing import client_import_execute  # the importer queues this task: a circle

    return client_import_execute(job=job).status


@tenant_task(model="clients.ClientBulkAction")
def client_bulk_action_run(job) -> str:
    """Run a bulk action of the client list (queued by `client_bulk_action_start`, or again by
    the sweep)."""
    from .bulk import client_bulk_action_execute  # the runner queues this task: a circle

    return client_bulk_action_execute(job=job).status

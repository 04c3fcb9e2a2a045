"""Reads of events that more than one page needs."""

from tenancy.models import Tenant

from .models import Event


def client_events(*, tenant: Tenant, client_id: int):
    """A client's timeline: its events, for the index (tenant, client_id, created_at, id)."""
    return Event.objects.for_tenant(tenant).filter(client_id=client_id)

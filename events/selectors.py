"""Reads of events that more than one page needs."""

from tenancy.models import Tenant
from tenancy.roles import Role

from .models import Event
from .types import MONEY_TYPES


def client_events(*, tenant: Tenant, client_id: int):
    """A client's timeline: its events, for the index (tenant, client_id, created_at, id)."""
    return Event.objects.for_tenant(tenant).filter(client_id=client_id)


def sees_money_only(membership) -> bool:
    """An accountant's audit log shows the money events only; an owner's, every event."""
    return membership.role != Role.OWNER


def audit_events(*, tenant: Tenant, membership):
    """The events a member's audit log lists (its page and its export): the tenant's, the
    money ones only for an accountant."""
    events = Event.objects.for_tenant(tenant)
    if sees_money_only(membership):
        events = events.filter(type__in=sorted(MONEY_TYPES))
    return events

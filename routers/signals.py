"""Receivers: holds, expiry and subscription changes cut or restore the client's PPPoE access
(clients.signals.client_access_changed gives the desired state, not a delta)."""

from django_scopes import scope

from .services import client_set_router_access


def apply_client_access(sender, *, tenant, client, access: bool, reason: str = "", **kwargs):
    with scope(tenant=tenant):
        client_set_router_access(client=client, enabled=bool(access), reason=reason)

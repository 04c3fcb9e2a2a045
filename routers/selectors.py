"""Reads that more than one view needs: the client's connection (the Connection tab and the
Connection details block of the client page) and the Routers page's queryset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from clients.signals import access_reason_label
from subscriptions.selectors import client_current_subscriptions
from tenancy.models import Tenant
from tenancy.modules import INTERNET, uses_any

from .availability import why_unavailable
from .models import ConnectionStatus, PppoeAccount, Router
from .tables import connection_status_html


@dataclass(frozen=True)
class Connection:
    """What the Connection block shows."""

    account: PppoeAccount | None
    username: str = ""
    server: str = ""
    status: str = ""
    status_label: str = ""
    last_seen: datetime | None = None
    checked_at: datetime | None = None
    address: str = ""
    caller_id: str = ""
    uptime: str = ""
    enabled: bool = True
    disabled_reason: str = ""
    unavailable_reason: str = ""  # set when the status is Unknown
    router_error: str = ""

    @property
    def exists(self) -> bool:
        return self.account is not None

    @property
    def status_html(self) -> str:
        return connection_status_html(self.status)


def connection_of_account(account: PppoeAccount | None) -> Connection:
    if account is None:
        return Connection(account=None)
    router = account.router
    status = account.status
    why = why_unavailable(account)
    return Connection(
        account=account,
        username=account.username,
        server=f"{router.name} ({router.address})",
        status=status,
        status_label=account.get_status_display(),
        last_seen=account.last_seen_at,
        checked_at=account.checked_at,
        address=account.address,
        caller_id=account.caller_id,
        uptime=account.uptime,
        enabled=account.enabled,
        disabled_reason=access_reason_label(account.disabled_reason),
        unavailable_reason=why.reason if why else "",
        router_error=router.last_error if status == ConnectionStatus.UNKNOWN else "",
    )


def account_of_client(client) -> PppoeAccount | None:
    """One query: the client's PPPoE account with its router, or None."""
    return (
        PppoeAccount.objects.for_tenant(Tenant(pk=client.tenant_id))
        .select_related("router")
        .filter(client_id=client.pk)
        .first()
    )


def connection_for_client(client) -> Connection:
    return connection_of_account(account_of_client(client))


def client_package_profile(client) -> str:
    """A new account's profile: the PPPoE profile of the client's current package."""
    for subscription in client_current_subscriptions(client=client):
        if subscription.package.pppoe_profile:
            return subscription.package.pppoe_profile
    return "default"


def client_connection_provider(request, client) -> Connection | None:
    """For the client page's Connection details block (contributions.py): None when the tenant
    does not use routers or the client has no account ("no router is assigned")."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not uses_any(tenant, {INTERNET}):
        return None
    connection = connection_for_client(client)
    return connection if connection.exists else None


def routers_for_page(tenant: Tenant):
    return Router.objects.for_tenant(tenant).annotate(accounts_count=Count("accounts"))

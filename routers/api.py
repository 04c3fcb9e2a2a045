"""Routers and PPPoE accounts over the JSON API (read only), with their live status as the
Routers page, the PPPoE accounts list and the client's Connection block show it.

- Lists take their page's FilterSet (routers: `q`, `state`; accounts: `q`, `router`,
  `status`, `enabled`); a bad value is a 422 naming it. Pages are keyset cursors over the
  sorts the tables offer, `?fields=` chooses the fields.
- A router's `state` is the page's Reachable / Unreachable / Never polled / Disabled, with its
  last error and why (`last_error_kind`). An account's `status` is online / offline / unknown;
  an unknown one says why (`unavailable_reason`, the client page's sentence, and
  `unavailable`, the lists' short word), from the same `routers.availability`.
- Passwords (the router's API password, the PPPoE secret) never leave Clientdesk, nor the
  router's API user name: an integration needs the status, not the way in.
"""

from datetime import datetime
from typing import Annotated

from django.db.models import F
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema

from core.api import (
    Answer,
    SortKey,
    chosen_fields,
    sorted_page,
    valid_filters,
)
from tenancy.api import api_operation
from tenancy.modules import INTERNET, modules_of
from tenancy.roles import Capability

from .availability import why_unavailable
from .filters import PppoeAccountFilterSet, RouterFilterSet
from .models import ConnectionStatus, PollErrorKind, PppoeAccount, SyncState
from .selectors import connection_of_account, routers_for_page

router = Router()
accounts_router = Router()

MODULES = modules_of(INTERNET)
PAGE_DEFAULT = 20
PAGE_MAX = 100
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _sorts(*columns: tuple[str, str, bool]) -> dict[str, tuple[SortKey, ...]]:
    """Each (sort, column, nullable) ascending and descending (`-sort`), the primary key
    last."""
    sorts = {}
    for sort, column, nullable in columns:
        sorts[sort] = (SortKey(column, nullable=nullable), SortKey("id"))
        sorts[f"-{sort}"] = (SortKey(column, True, nullable=nullable), SortKey("id", True))
    return sorts


# -- routers ---------------------------------------------------------------------------------
ROUTER_FIELDS = (
    "id",
    "name",
    "host",
    "port",
    "use_tls",
    "verify_tls",
    "enabled",
    "state",
    "last_polled_at",
    "last_success_at",
    "last_error",
    "last_error_kind",
    "sessions_online",
    "identity",
    "version",
    "accounts_count",
)
ROUTER_SORTS = _sorts(
    ("name", "name", False),
    ("last_polled_at", "last_polled_at", True),
    ("sessions_online", "sessions_online", True),
)


class RouterOut(Answer):
    """A router and its last poll; with `?fields=` only the fields asked for are present."""

    id: int | None = None
    name: str | None = None
    host: str | None = None
    port: int | None = None
    use_tls: bool | None = None
    verify_tls: bool | None = None
    enabled: bool | None = Field(None, description="Polled every minute when enabled.")
    state: str | None = Field(None, description="Reachable, Unreachable, Never polled, Disabled.")
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_kind: PollErrorKind | None = None
    sessions_online: int | None = None
    identity: str | None = Field(None, description="The RouterOS identity.")
    version: str | None = None
    accounts_count: int | None = Field(None, description="PPPoE accounts on this router.")


class RouterPage(Answer):
    items: list[RouterOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class RouterListQuery(Schema):
    q: str | None = Field(None, max_length=100, description="Name, host or identity.")
    state: str | None = Field(None, max_length=20, description="reachable, unreachable, ...")
    sort: str | None = Field(None, max_length=40, description=", ".join(ROUTER_SORTS))
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    fields: str | None = Field(None, max_length=1000)


def router_row(router, fields) -> dict:
    """The router's fields; its last error in the caller's language (a stored message)."""
    values = {"state": str(router.status_label), "last_error": str(router.last_error)}
    return {name: values[name] if name in values else getattr(router, name) for name in fields}


@api_operation(
    router,
    "GET",
    "",
    capability=Capability.VIEW,
    modules=MODULES,
    response=RouterPage,
    exclude_unset=True,
)
def router_list(request, filters: Query[RouterListQuery]):
    """Routers, filtered and searched as on the Routers page."""
    queryset = routers_for_page(request.tenant)
    filterset = valid_filters(RouterFilterSet(request.GET, queryset=queryset, request=request))
    fields = chosen_fields(filters.fields, ROUTER_FIELDS)
    return sorted_page(
        filterset.qs,
        filters,
        sorts=ROUTER_SORTS,
        default="name",
        row=lambda row: router_row(row, fields),
    )


@api_operation(
    router,
    "GET",
    "{router_id}/",
    capability=Capability.VIEW,
    modules=MODULES,
    response=RouterOut,
    exclude_unset=True,
)
def router_read(request, router_id: Id, fields: str | None = Query(None, max_length=1000)):
    found = get_object_or_404(routers_for_page(request.tenant), pk=router_id)
    return router_row(found, chosen_fields(fields, ROUTER_FIELDS))


# -- PPPoE accounts --------------------------------------------------------------------------
ACCOUNT_FIELDS = (
    "id",
    "username",
    "client",
    "client_name",
    "router",
    "router_name",
    "profile",
    "status",
    "status_label",
    "unavailable",
    "unavailable_reason",
    "router_error",
    "last_seen_at",
    "checked_at",
    "address",
    "caller_id",
    "uptime",
    "enabled",
    "disabled_reason",
    "sync_state",
)
ACCOUNT_SORTS = _sorts(
    ("username", "username", False),
    ("client", "client_number", False),
    ("status", "status", False),
    ("last_seen_at", "last_seen_at", True),
)


class PppoeAccountOut(Answer):
    """A PPPoE account and its live status; with `?fields=` only the fields asked for."""

    id: int | None = None
    username: str | None = None
    client: int | None = Field(None, description="The client's ID (its number).")
    client_name: str | None = None
    router: int | None = Field(None, description="The router's id.")
    router_name: str | None = None
    profile: str | None = None
    status: ConnectionStatus | None = None
    status_label: str | None = Field(None, description="Online, Offline or Unknown.")
    unavailable: str | None = Field(None, description="Why Unknown, in a word; else empty.")
    unavailable_reason: str | None = Field(
        None, description="Why Unknown, as the client page says it; else empty."
    )
    router_error: str | None = Field(None, description="The router's last error when Unknown.")
    last_seen_at: datetime | None = None
    checked_at: datetime | None = None
    address: str | None = Field(None, description="The session's current address.")
    caller_id: str | None = None
    uptime: str | None = None
    enabled: bool | None = Field(None, description="False while on hold or expired.")
    disabled_reason: str | None = None
    sync_state: SyncState | None = Field(None, description="Whether the router matches.")


class PppoeAccountPage(Answer):
    items: list[PppoeAccountOut]
    next: str | None = Field(description="The cursor of the next page; null on the last page.")


class PppoeAccountListQuery(Schema):
    q: str | None = Field(None, max_length=100, description="Username, client name or ID.")
    router: int | None = Field(None, description="A router's id.")
    status: ConnectionStatus | None = None
    enabled: str | None = Field(None, max_length=10, description="yes or no.")
    sort: str | None = Field(None, max_length=40, description=", ".join(ACCOUNT_SORTS))
    cursor: str | None = Field(None, max_length=1000)
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX)
    fields: str | None = Field(None, max_length=1000)


def account_row(account: PppoeAccount, fields) -> dict:
    """The account as the Connection block shows it (the same selector and reasons)."""
    connection = connection_of_account(account)
    why = why_unavailable(account)
    values = {
        "client": account.client.number,
        "client_name": account.client.name,
        "router": account.router_id,
        "router_name": account.router.name,
        "status_label": connection.status_label,
        "unavailable": why.word if why else "",
        "unavailable_reason": connection.unavailable_reason,
        "router_error": connection.router_error,
        "disabled_reason": connection.disabled_reason,
    }
    return {name: values[name] if name in values else getattr(account, name) for name in fields}


def accounts_queryset(request):
    return (
        PppoeAccount.objects.for_tenant(request.tenant)
        .select_related("client", "router")
        .annotate(client_number=F("client__number"))
    )


@api_operation(
    accounts_router,
    "GET",
    "",
    capability=Capability.VIEW,
    modules=MODULES,
    response=PppoeAccountPage,
    exclude_unset=True,
)
def pppoe_account_list(request, filters: Query[PppoeAccountListQuery]):
    """PPPoE accounts with their live status, filtered as on the PPPoE accounts list."""
    filterset = valid_filters(
        PppoeAccountFilterSet(request.GET, queryset=accounts_queryset(request), request=request)
    )
    fields = chosen_fields(filters.fields, ACCOUNT_FIELDS)
    return sorted_page(
        filterset.qs,
        filters,
        sorts=ACCOUNT_SORTS,
        default="username",
        row=lambda row: account_row(row, fields),
    )


@api_operation(
    accounts_router,
    "GET",
    "{account_id}/",
    capability=Capability.VIEW,
    modules=MODULES,
    response=PppoeAccountOut,
    exclude_unset=True,
)
def pppoe_account_read(request, account_id: Id, fields: str | None = Query(None, max_length=1000)):
    account = get_object_or_404(accounts_queryset(request), pk=account_id)
    return account_row(account, chosen_fields(fields, ACCOUNT_FIELDS))

"""Reads that several of tenancy's pieces share: the saved views a list offers an operator,
and an API token with its tenant."""

from functools import cache

from django.db import connection
from django.db.models import Q

from core.sql import columns_of, row_instances
from core.tables import parse_positive_int

from .models import ApiToken, SavedView, Tenant
from .roles import Capability

SAVED_VIEWS_CACHE = "_saved_views"


def saved_views_visible_to(membership):
    """The saved views an operator may open: their own and those shared in their tenant."""
    return SavedView.objects.for_tenant(membership.tenant).filter(
        Q(owner=membership) | Q(shared=True)
    )


def list_name_of(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else ""


def saved_views_for(request) -> list[SavedView]:
    """The saved views of the list page this request shows, by name (one query a request)."""
    cached = getattr(request, SAVED_VIEWS_CACHE, None)
    if cached is None:
        membership = getattr(request, "membership", None)
        list_name = list_name_of(request)
        cached = []
        if membership is not None and list_name:
            cached = list(
                saved_views_visible_to(membership)
                .filter(list_name=list_name)
                .select_related("owner__user")
                .order_by("name", "pk")
            )
        setattr(request, SAVED_VIEWS_CACHE, cached)
    return cached


def saved_view_applied(request) -> SavedView | None:
    """The saved view the list's URL names (`?view=`), when this operator may open it."""
    wanted = parse_positive_int(request.GET.get("view"), 0)
    if not wanted:
        return None
    return next((view for view in saved_views_for(request) if view.pk == wanted), None)


def saved_view_removable(view: SavedView, membership) -> bool:
    """Its owner removes a view; an owner of the tenant also removes a shared one."""
    if view.owner_id == membership.pk:
        return True
    return view.shared and membership.allows(Capability.REMOVE_SHARED_VIEWS)


# -- API tokens --------------------------------------------------------------------------------
@cache
def _token_statement() -> str:
    """The SELECT of a token and its active tenant by the token's digest (a unique index),
    written once from the models' columns. Every API request runs it: composed by the ORM on
    each request, the statement cost four times the CPU of running it."""
    quote = connection.ops.quote_name
    tokens, tenants = quote(ApiToken._meta.db_table), quote(Tenant._meta.db_table)
    return (
        f"SELECT {', '.join(columns_of(ApiToken, 't') + columns_of(Tenant, 'n'))} "
        f"FROM {tokens} t JOIN {tenants} n ON n.{quote('id')} = t.{quote('tenant_id')} "
        f"WHERE t.{quote('digest')} = %s AND n.{quote('is_active')} = %s"
    )


def api_token_with_tenant(digest: str) -> ApiToken | None:
    """The token of this digest with its tenant loaded (`token.tenant` needs no query), if the
    tenant is active; revoked and expired ones too (the caller decides)."""
    with connection.cursor() as cursor:
        cursor.execute(_token_statement(), [digest, True])
        row = cursor.fetchone()
    if row is None:
        return None
    token, tenant = row_instances(row, ApiToken, Tenant)
    ApiToken._meta.get_field("tenant").set_cached_value(token, tenant)
    return token

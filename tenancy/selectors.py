"""Reads that several of tenancy's pieces share: the saved views a list offers an operator."""

from django.db.models import Q

from core.tables import parse_positive_int

from .models import SavedView
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

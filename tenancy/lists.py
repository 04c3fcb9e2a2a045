"""A list page's table without its page: what an export of the list and a saved view read.

`list_view_table` builds a GET request for the list's path and query, as the operator who asks
(their tenant, membership and role), and calls the list view itself, which runs its own checks
(module, role), its own queryset, FilterSet, sort and columns, and answers with its table
instead of rendering it. So an export shows exactly what the page shows, and a saved view holds
what the page showed; a page whose checks refuse the operator refuses this too.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, QueryDict
from django.urls import Resolver404, resolve

from .mixins import FilteredTableView, TableOnlyResponse

# The parameters that say where in the list one is, not what the list shows: the page number,
# and a keyset-paged list's cursors (the audit log's newer / older pages).
PLACE_PARAMETERS = ("page", "after", "before")


def list_view_of(path: str):
    """The resolver match of a list page's path; Http404 for anything else."""
    try:
        match = resolve(path)
    except Resolver404:
        raise Http404("No such list.") from None
    view_class = getattr(match.func, "view_class", None)
    if view_class is None or not issubclass(view_class, FilteredTableView):
        raise Http404("No such list.")
    return match


def list_query(query: str) -> QueryDict:
    """The list's query as its page reads it, without the page number."""
    data = QueryDict(query or "", mutable=True)
    for name in PLACE_PARAMETERS:
        data.pop(name, None)
    return data


def list_view_table(
    *,
    path: str,
    query: str,
    user,
    tenant,
    membership,
    columns: list[str] | None = None,
    ids: list[int] | None = None,
) -> TableOnlyResponse:
    """The table the list page at `path?query` shows this operator (every row, sorted and
    filtered; `columns`: these columns instead of the operator's; `ids`: only those of its rows,
    the rows ticked on the page). Http404 or PermissionDenied as the page itself would answer."""
    match = list_view_of(path)
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    request.GET = list_query(query)
    request.GET._mutable = False
    request.user = user
    request.tenant = tenant
    request.membership = membership
    request.memberships = [membership] if membership is not None else []
    request.resolver_match = match
    request.htmx = None
    request.table_only = True
    if columns is not None:
        request.table_columns = list(columns)
    if ids is not None:
        request.table_ids = [int(pk) for pk in ids]
    response = match.func(request, *match.args, **match.kwargs)
    if not isinstance(response, TableOnlyResponse):
        raise PermissionDenied("This list is not available to you.")
    return response

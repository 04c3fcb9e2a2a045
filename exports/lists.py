"""The export of any list page as the operator sees it: its filter, sort and visible columns.

One export kind serves every list (every page built on tenancy's FilteredTableView): the
page's toolbar sends the list's path and query; the job asks the list view itself for its
table (tenancy.lists.list_view_table, as the operator who asked, through the page's own
checks, FilterSet and sort) with the columns the page showed when asked, and writes every row
of it, not only the page, through the exports writer. Each column exports as
core.tables says: real numbers, dates and amounts, a choice as its label.

What the page restricts, the export restricts, because it is the page's own queryset: the
audit log holds an accountant's money events only (events.selectors.audit_events), a filter
the page ignores as bad is ignored here too, and a keyset-paged list (the audit log) is
written whole, from its first row, whatever newer / older page the operator was on. The
client list's bulk action "Export" is this export too, for the rows ticked (`ids`) or all
those matching the list's filter (exports/client_selection.py).
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy

from core.stored_text import StoredText, label_text, stored_gettext
from tenancy.lists import list_view_table
from tenancy.models import Membership

from .registry import ExportGone, ExportKind, ExportSpec
from .xlsx import XlsxColumn

LIST_EXPORT_KIND = "exports.list"
CHUNK_SIZE = 2000


def list_export_title(table) -> StoredText:
    """What the Exports page calls it: the list's rows' name (clients, routers, ...), read in
    each reader's language (the job's heading capitalizes it)."""
    return label_text(table.data.data.model._meta.verbose_name_plural)


def list_export_parameters(*, path: str, query: str, table, ids: list[int] | None = None) -> dict:
    """What rebuilds the list in the worker: where it is, the columns shown now, and for a
    selection ticked on the page its rows' ids."""
    parameters = {"path": path, "query": query, "columns": [bound.name for bound in table.columns]}
    if ids is not None:
        parameters["ids"] = list(ids)
    return parameters


def list_export_columns(fields, currency: str) -> list[XlsxColumn]:
    return [
        XlsxColumn(
            f"{f.header} ({currency})" if f.kind == "money" and currency else f.header, f.kind
        )
        for f in fields
    ]


def build_list_export(job) -> ExportSpec:
    params = job.parameters
    membership = (
        Membership.objects.for_tenant(job.tenant)
        .filter(user_id=job.created_by_id, is_active=True)
        .select_related("tenant", "user")
        .first()
    )
    if membership is None:
        raise ExportGone(
            stored_gettext("The operator who asked for this export no longer works here.")
        )
    try:
        table = list_view_table(
            path=params["path"],
            query=params.get("query", ""),
            user=membership.user,
            tenant=job.tenant,
            membership=membership,
            columns=params.get("columns"),
            ids=params.get("ids"),
        ).table
    except (Http404, PermissionDenied) as error:
        raise ExportGone(
            stored_gettext(
                "This list is no longer available to you (%(reason)s).", reason=str(error)
            )
        ) from None
    fields = table.export_fields()
    title = list_export_title(table)
    stamp = timezone.localtime(job.created_at, job.tenant.zone)
    return ExportSpec(
        columns=list_export_columns(fields, job.tenant.currency),
        rows=table.export_rows(chunk_size=CHUNK_SIZE),
        filename=f"{slugify(title) or 'list'}-{stamp:%Y%m%d-%H%M}.xlsx",
        sheet_title=title,
        total=table.export_total(),
    )


LIST_EXPORT = ExportKind(key=LIST_EXPORT_KIND, label=gettext_lazy("List"), build=build_list_export)

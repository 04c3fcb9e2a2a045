"""The client list's bulk action "Export": the list's own export (exports.lists) for the
selection, so that the file has the columns the operator sees, in the list's order.

The selection is applied to the list's queryset through the list view itself: "all matching
this filter" is the list's query string; the clients ticked are their ids within the list's
query as it was when they were ticked (a ticked client that the list no longer shows, deleted
meanwhile, is left out, as the page would leave it out). The worker rebuilds the table from
these, in the job's tenant scope, as the operator who asked."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from clients.extensions import BulkAction
from core.stored_text import StoredText
from tenancy.lists import list_view_table
from tenancy.roles import Capability

from .lists import LIST_EXPORT_KIND, list_export_parameters
from .services import export_job_create


def client_selection_hand_off(
    *, tenant, actor, membership, selection: dict, list_query: str, title: StoredText
) -> str:
    """The bulk action's part: an export job of the selection; its page shows the progress."""
    ticked = "query" not in selection
    ids = [int(pk) for pk in selection.get("ids", ())] if ticked else None
    query = list_query if ticked else selection["query"]
    path = reverse("clients:client_list")
    table = list_view_table(
        path=path, query=query, user=actor, tenant=tenant, membership=membership, ids=ids
    ).table
    job = export_job_create(
        tenant=tenant,
        actor=actor,
        kind=LIST_EXPORT_KIND,
        parameters=list_export_parameters(path=path, query=query, table=table, ids=ids),
        title=title,
    )
    return reverse("exports:export_detail", kwargs={"pk": job.pk})


CLIENT_SELECTION_BULK_ACTION = BulkAction(
    name="export",
    label=_("Export to .xlsx"),
    capability=Capability.EXPORT,
    hand_off=client_selection_hand_off,
    order=80,
)

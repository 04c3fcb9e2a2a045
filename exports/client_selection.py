"""The export of a selection of the client list (its bulk action "Export"): the clients ticked,
or all those matching the list's filter, evaluated again by the worker in the job's tenant scope
through the same selection as every bulk action (`clients.bulk.bulk_selection_clients`: the
list's FilterSet), in id order, streamed.

The columns are the client's own details, the same for every selection (the list's columns
differ per operator and module; a file that is read by another system wants fixed columns)."""

from django.urls import reverse

from clients.bulk import bulk_selection_clients
from clients.extensions import BulkAction
from clients.models import ClientStatus
from tenancy.roles import Capability

from .registry import ExportKind, ExportSpec
from .services import export_job_create
from .xlsx import XlsxColumn

KIND = "clients.selection"
CHUNK_SIZE = 2000
STATUS_LABELS = dict(ClientStatus.choices)
COLUMNS = [
    XlsxColumn("Client ID", "integer", width=10),
    XlsxColumn("Client name", "text", width=32),
    XlsxColumn("Company", "text", width=28),
    XlsxColumn("Client type", "text", width=18),
    XlsxColumn("Status", "text", width=20),
    XlsxColumn("E-mail", "text", width=28),
    XlsxColumn("Phone", "text", width=18),
    XlsxColumn("ITN", "text", width=16),
    XlsxColumn("Login", "text", width=18),
    XlsxColumn("Creation date", "datetime", width=20),
]
FIELDS = (
    "number",
    "name",
    "company",
    "group__name",
    "status",
    "email",
    "phone",
    "itn",
    "login",
    "created_at",
)


def client_selection_rows(queryset):
    for row in queryset.values_list(*FIELDS).iterator(chunk_size=CHUNK_SIZE):
        number, name, company, group, status, *rest = row
        yield (number, name, company, group or "", STATUS_LABELS.get(status, status), *rest)


def build_client_selection_export(job) -> ExportSpec:
    selection = job.parameters.get("selection") or {"ids": []}
    clients = bulk_selection_clients(tenant=job.tenant, selection=selection).order_by("pk")
    return ExportSpec(
        columns=COLUMNS,
        rows=client_selection_rows(clients),
        total=clients.count(),
        filename="clients.xlsx",
        sheet_title="Clients",
    )


def client_selection_hand_off(*, tenant, actor, selection: dict, title: str) -> str:
    """The bulk action's part: an export job of the selection; its page shows the progress."""
    job = export_job_create(
        tenant=tenant, actor=actor, kind=KIND, parameters={"selection": selection}, title=title
    )
    return reverse("exports:export_detail", kwargs={"pk": job.pk})


CLIENT_SELECTION_EXPORT = ExportKind(key=KIND, label="Clients", build=build_client_selection_export)
CLIENT_SELECTION_BULK_ACTION = BulkAction(
    name="export",
    label="Export to .xlsx",
    capability=Capability.EXPORT,
    hand_off=client_selection_hand_off,
    order=80,
)

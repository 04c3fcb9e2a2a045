"""The ledger export: the Finance tab's transactions of one client for a period, as .xlsx.

The rows come from the same selector as the tab (`ledger_entries_for_period`), scoped to the
job's tenant, in the order the operator had chosen, streamed with
`values_list(...).iterator(chunk_size=2000)`.
"""

from datetime import date

from clients.models import Client
from core.formatting import format_date
from exports.registry import ExportGone, ExportKind, ExportSpec
from exports.services import export_job_create
from exports.xlsx import XlsxColumn

from .models import EntryKind
from .selectors import Period, account_or_empty, ledger_entries_for_period

CHUNK_SIZE = 2000
KIND_LABELS = dict(EntryKind.choices)

COLUMNS = [
    XlsxColumn("Entry", "integer", width=12),
    XlsxColumn("Date", "datetime", width=20),
    XlsxColumn("Credit", "money", width=18),
    XlsxColumn("Debit", "money", width=18),
    XlsxColumn("Purpose", "text", width=40),
    XlsxColumn("Comment", "text", width=40),
    XlsxColumn("Kind", "text", width=22),
    XlsxColumn("Balance", "money", width=18),
]


def ledger_rows(queryset):
    for pk, created_at, amount, purpose, comment, kind, balance_after in queryset.values_list(
        "id", "created_at", "amount", "purpose", "comment", "kind", "balance_after"
    ).iterator(chunk_size=CHUNK_SIZE):
        yield (
            pk,
            created_at,
            -amount if amount < 0 else None,
            amount if amount > 0 else None,
            purpose,
            comment,
            KIND_LABELS.get(kind, kind),
            balance_after,
        )


def build_ledger_export(job) -> ExportSpec:
    params = job.parameters
    client = (
        Client.objects.for_tenant(job.tenant).filter(number=params.get("client_number")).first()
    )
    if client is None:
        raise ExportGone("The client of this export no longer exists.")
    period = Period(
        start=date.fromisoformat(params["start"]), end=date.fromisoformat(params["end"])
    )
    account = account_or_empty(client=client)
    queryset = ledger_entries_for_period(account=account, period=period)
    if account.pk is None:
        queryset = queryset.none()
    descending = params.get("sort", "-created_at").startswith("-")
    ordering = ("-created_at", "-id") if descending else ("created_at", "id")
    queryset = queryset.order_by(*ordering)
    currency = job.tenant.currency
    columns = [
        XlsxColumn(f"{c.header} ({currency})", c.kind, c.width) if c.kind == "money" else c
        for c in COLUMNS
    ]
    return ExportSpec(
        columns=columns,
        rows=ledger_rows(queryset),
        total=queryset.count(),
        filename=f"transactions-{client.number}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx",
        sheet_title=f"Client {client.number}",
    )


LEDGER_EXPORT_KIND = "billing.ledger"
LEDGER_EXPORT = ExportKind(key=LEDGER_EXPORT_KIND, label="Transactions", build=build_ledger_export)
LEDGER_SORTS = ("created_at", "-created_at")


def ledger_export_start(
    *,
    client: Client,
    period: Period,
    sort: str | None,
    actor,
    idempotency_key: str | None = None,
    api_token=None,
):
    """Queue the .xlsx of a period's transactions, from the Finance tab or the API alike."""
    return export_job_create(
        tenant=client.tenant,
        actor=actor,
        api_token=api_token,
        kind=LEDGER_EXPORT_KIND,
        parameters={
            "client_number": client.number,
            **period.as_params(),
            "sort": sort if sort in LEDGER_SORTS else "-created_at",
        },
        title=f"Transactions of #{client.number} {client.name}, "
        f"{format_date(period.start)} – {format_date(period.end)}",
        idempotency_key=idempotency_key,
    )

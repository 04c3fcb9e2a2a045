"""The ledger export: the Finance tab's transactions of one client for a period, as .xlsx.

The rows come from the same selector as the tab (`ledger_entries_for_period`), scoped to the
job's tenant, in the order the operator had chosen, streamed with
`values_list(...).iterator(chunk_size=2000)`.
"""

from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clients.models import Client
from core.stored_text import stored_gettext
from exports.registry import ExportGone, ExportKind, ExportSpec
from exports.services import export_job_create
from exports.xlsx import XlsxColumn

from .models import EntryKind
from .selectors import Period, account_or_empty, ledger_entries_for_period

CHUNK_SIZE = 2000
COLUMNS = [
    XlsxColumn(gettext_lazy("Entry"), "integer", width=12),
    XlsxColumn(gettext_lazy("Date"), "datetime", width=20),
    XlsxColumn(gettext_lazy("Credit"), "money", width=18),
    XlsxColumn(gettext_lazy("Debit"), "money", width=18),
    XlsxColumn(gettext_lazy("Purpose"), "text", width=40),
    XlsxColumn(gettext_lazy("Comment"), "text", width=40),
    XlsxColumn(gettext_lazy("Kind"), "text", width=22),
    XlsxColumn(gettext_lazy("Balance"), "money", width=18),
]


def ledger_rows(queryset):
    kind_labels = {kind: str(label) for kind, label in EntryKind.choices}  # this language's
    for pk, created_at, amount, purpose, comment, kind, balance_after in queryset.values_list(
        "id", "created_at", "amount", "purpose", "comment", "kind", "balance_after"
    ).iterator(chunk_size=CHUNK_SIZE):
        yield (
            pk,
            created_at,
            -amount if amount < 0 else None,
            amount if amount > 0 else None,
            str(purpose),  # a stored message, in the language of who asked for the file
            comment,
            kind_labels.get(kind, kind),
            balance_after,
        )


def build_ledger_export(job) -> ExportSpec:
    params = job.parameters
    client = (
        Client.objects.for_tenant(job.tenant).filter(number=params.get("client_number")).first()
    )
    if client is None:
        raise ExportGone(stored_gettext("The client of this export no longer exists."))
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
        XlsxColumn(f"{c.header} ({currency})", c.kind, c.width)
        if c.kind == "money"
        else XlsxColumn(str(c.header), c.kind, c.width)
        for c in COLUMNS
    ]
    return ExportSpec(
        columns=columns,
        rows=ledger_rows(queryset),
        total=queryset.count(),
        filename=f"transactions-{client.number}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx",
        sheet_title=_("Client %(number)s") % {"number": client.number},
    )


LEDGER_EXPORT_KIND = "billing.ledger"
LEDGER_EXPORT = ExportKind(
    key=LEDGER_EXPORT_KIND, label=gettext_lazy("Transactions"), build=build_ledger_export
)
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
        title=stored_gettext(
            "Transactions of #%(number)s %(name)s, %(start)s – %(end)s",
            number=client.number,
            name=client.name,
            start=period.start,
            end=period.end,
        ),
        idempotency_key=idempotency_key,
    )

"""The Statistics export: the groupings the operator chose, one sheet each, with the columns
chosen in the pop-up and a totals row, for one client and period.

Rows are rebuilt in the worker by the same selector as the tab (`statistics_report`, reading
the rollups, scoped to the job's tenant), so that the file holds what the operator saw.
"""

from datetime import date

from billing.selectors import Period
from clients.models import Client
from core.formatting import format_date
from exports.registry import ExportGone, ExportKind, ExportSpec, SheetSpec
from exports.services import export_job_create
from exports.xlsx import XlsxColumn

from .forms import EXPORT_COLUMNS
from .selectors import REPORTS, ReportRow, statistics_report

STATISTICS_EXPORT_KIND = "messaging.statistics"

COLUMN_SPECS = {
    "sent": ("integer", lambda r: r.sent),
    "delivered": ("integer", lambda r: r.delivered),
    "pending": ("integer", lambda r: r.pending),
    "failed": ("integer", lambda r: r.failed),
    "rejected": ("integer", lambda r: r.rejected),
    "efficiency": (
        "percent",
        lambda r: None if r.efficiency is None else round(r.delivered / r.known, 4),
    ),
    "price": ("money", lambda r: r.price),
    "messages": ("integer", lambda r: r.messages),
}
COLUMN_LABELS = dict(EXPORT_COLUMNS)

GROUP_COLUMNS = {
    "day": [XlsxColumn("Date", "date", width=14)],
    "operator": [XlsxColumn("Country", "text", width=22), XlsxColumn("Operator", "text", width=28)],
    "sender": [
        XlsxColumn("Sender ID", "text", width=18),
        XlsxColumn("Sender ID status", "text", width=24),
    ],
    "viber_sender": [
        XlsxColumn("Sender ID", "text", width=18),
        XlsxColumn("Sender ID status", "text", width=24),
    ],
    "country": [XlsxColumn("Country", "text", width=24)],
}


def _group_values(key: str, row: ReportRow, *, total: bool) -> list:
    if total:
        return ["Total"] + [None] * (len(GROUP_COLUMNS[key]) - 1)
    if key == "day":
        return [row.values["day"]]
    if key == "operator":
        country, _, operator = row.label.partition(" - ")
        return [country, operator]
    if key in ("sender", "viber_sender"):
        return [row.label, row.flag or "Approved"]
    return [row.label]


def _sheet_rows(key: str, report, columns: list[str]):
    for row in report.rows:
        yield _group_values(key, row, total=False) + [COLUMN_SPECS[c][1](row) for c in columns]
    yield _group_values(key, report.totals, total=True) + [
        COLUMN_SPECS[c][1](report.totals) for c in columns
    ]


def build_statistics_export(job) -> ExportSpec:
    params = job.parameters
    client = (
        Client.objects.for_tenant(job.tenant)
        .select_related("tenant")
        .filter(number=params.get("client_number"))
        .first()
    )
    if client is None:
        raise ExportGone("The client of this export no longer exists.")
    period = Period(
        start=date.fromisoformat(params["start"]), end=date.fromisoformat(params["end"])
    )
    columns = [c for c in params.get("columns", []) if c in COLUMN_SPECS] or ["sent", "delivered"]
    currency = job.tenant.currency
    sheets = []
    total = 0
    for key in [k for k in params.get("reports", []) if k in REPORTS] or ["day"]:
        report = statistics_report(
            client=client, report=key, period=period, channel=params.get("channel", "")
        )
        header = [
            XlsxColumn(
                f"{COLUMN_LABELS[c]} ({currency})" if c == "price" else COLUMN_LABELS[c],
                COLUMN_SPECS[c][0],
                width=max(14, len(COLUMN_LABELS[c]) + 6),
            )
            for c in columns
        ]
        sheets.append(
            SheetSpec(
                title=REPORTS[key].label.replace("Grouping by ", "By "),
                columns=GROUP_COLUMNS[key] + header,
                rows=_sheet_rows(key, report, columns),
            )
        )
        total += len(report.rows) + 1
    return ExportSpec(
        columns=sheets[0].columns,
        rows=[],
        sheets=sheets,
        total=total,
        filename=f"statistics-{client.number}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx",
        sheet_title=sheets[0].title,
    )


STATISTICS_EXPORT = ExportKind(
    key=STATISTICS_EXPORT_KIND, label="Statistics", build=build_statistics_export
)


def statistics_export_start(
    *, client: Client, chosen: dict, actor, idempotency_key: str | None = None, api_token=None
):
    """Queue the Statistics export of `chosen` (a valid StatisticsExportForm's cleaned data),
    from the tab's pop-up or the API alike."""
    return export_job_create(
        tenant=client.tenant,
        actor=actor,
        api_token=api_token,
        kind=STATISTICS_EXPORT_KIND,
        parameters={
            "client_number": client.number,
            "start": chosen["start"].isoformat(),
            "end": chosen["end"].isoformat(),
            "channel": chosen.get("channel") or "",
            "reports": chosen["reports"],
            "columns": chosen["columns"],
        },
        title=f"Statistics of client #{client.number}, {format_date(chosen['start'])} – "
        f"{format_date(chosen['end'])}",
        idempotency_key=idempotency_key,
    )

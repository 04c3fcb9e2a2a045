"""The Statistics export: the groupings the operator chose, one sheet each, with the columns
chosen in the pop-up and a totals row, for one client and period.

Rows are rebuilt in the worker by the same selector as the tab (`statistics_report`, reading
the rollups, scoped to the job's tenant), so that the file holds what the operator saw.
"""

from datetime import date

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from billing.selectors import Period
from clients.models import Client
from core.stored_text import stored_gettext
from exports.registry import ExportGone, ExportKind, ExportSpec, SheetSpec
from exports.services import export_job_create
from exports.xlsx import XlsxColumn

from .forms import EXPORT_COLUMNS
from .models import SenderStatus
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


def group_columns(key: str) -> list[XlsxColumn]:
    """The grouping's own columns, headed in the active language."""
    sender = [
        XlsxColumn(_("Sender ID"), "text", width=18),
        XlsxColumn(_("Sender ID status"), "text", width=24),
    ]
    return {
        "day": [XlsxColumn(_("Date"), "date", width=14)],
        "operator": [
            XlsxColumn(_("Country"), "text", width=22),
            XlsxColumn(pgettext("mobile network", "Operator"), "text", width=28),
        ],
        "sender": sender,
        "viber_sender": sender,
        "country": [XlsxColumn(_("Country"), "text", width=24)],
    }[key]


GROUP_WIDTHS = {"day": 1, "operator": 2, "sender": 2, "viber_sender": 2, "country": 1}


def _group_values(key: str, row: ReportRow, *, total: bool) -> list:
    if total:
        return [_("Total")] + [None] * (GROUP_WIDTHS[key] - 1)
    if key == "day":
        return [row.values["day"]]
    if key == "operator":
        country, _sep, operator = row.label.partition(" - ")
        return [country, operator]
    if key in ("sender", "viber_sender"):
        return [row.label, row.flag or str(SenderStatus.APPROVED.label)]
    return [row.label]


def _sheet_rows(key: str, report, columns: list[str]):
    for row in report.rows:
        yield _group_values(key, row, total=False) + [COLUMN_SPECS[c][1](row) for c in columns]
    yield _group_values(key, report.totals, total=True) + [
        COLUMN_SPECS[c][1](report.totals) for c in columns
    ]


def build_statistics_export(job) -> ExportSpec:
    """In the language of the operator who asked for it (headers, sheet names, country names)."""
    with translation.override(job.parameters.get("language") or settings.LANGUAGE_CODE):
        return _build_statistics_export(job)


def _build_statistics_export(job) -> ExportSpec:
    params = job.parameters
    client = (
        Client.objects.for_tenant(job.tenant)
        .select_related("tenant")
        .filter(number=params.get("client_number"))
        .first()
    )
    if client is None:
        raise ExportGone(stored_gettext("The client of this export no longer exists."))
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
        labels = {c: str(COLUMN_LABELS[c]) for c in columns}
        header = [
            XlsxColumn(
                f"{labels[c]} ({currency})" if c == "price" else labels[c],
                COLUMN_SPECS[c][0],
                width=max(14, len(labels[c]) + 6),
            )
            for c in columns
        ]
        sheets.append(
            SheetSpec(
                title=str(REPORTS[key].sheet_title),
                columns=group_columns(key) + header,
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
    key=STATISTICS_EXPORT_KIND, label=gettext_lazy("Statistics"), build=build_statistics_export
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
            "language": translation.get_language() or settings.LANGUAGE_CODE,
        },
        title=stored_gettext(
            "Statistics of client #%(number)s, %(start)s – %(end)s",
            number=client.number,
            start=chosen["start"],
            end=chosen["end"],
        ),
        idempotency_key=idempotency_key,
    )

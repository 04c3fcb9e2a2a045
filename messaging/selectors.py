"""The Statistics tab's reports, read from the daily rollups only (never from the messages).

A report groups one rollup over the period's days (the tenant's calendar days, both included)
by its grouping's dimensions, in one aggregate query:

* day            — DailySenderStat by day (both channels unless one is chosen);
* operator       — DailyRouteStat by country and operator;
* sender         — DailySenderStat of SMS by sender ID;
* viber_sender   — DailySenderStat of Viber by sender ID;
* country        — DailyRouteStat by country.

Efficiency is delivered parts out of the parts whose fate is known (sent minus those still
awaiting a delivery report), so that a report still on its way is not counted as a failure;
parts awaiting a report are a figure of their own. Sender IDs that are not approved (or not
registered in the Names tab at all) are counted under their name and flagged.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.selectors import Period
from clients.models import Client
from core.formatting import format_date

from .models import DailyRouteStat, DailySenderStat, MessageChannel, SenderId, SenderStatus
from .numbers import country_name

SUM_FIELDS = (
    "messages",
    "sent_parts",
    "delivered_parts",
    "pending_parts",
    "failed_parts",
    "rejected_parts",
    "price",
)
UNKNOWN_OPERATOR = gettext_lazy("Unknown operator")


@dataclass(frozen=True)
class ReportKind:
    key: str
    label: str  # "Grouping by day"
    group_label: str  # the first column's header
    model: type
    dims: tuple[str, ...]
    sheet_title: str = ""  # the export's sheet: "By day"
    channel: str | None = None  # fixed channel (sender reports); None: the form's choice
    chart: str = "bar"


REPORTS: dict[str, ReportKind] = {
    r.key: r
    for r in (
        ReportKind(
            "day",
            gettext_lazy("Grouping by day"),
            gettext_lazy("Date"),
            DailySenderStat,
            ("day",),
            sheet_title=gettext_lazy("By day"),
            chart="line",
        ),
        ReportKind(
            "operator",
            gettext_lazy("Grouping by operator"),
            gettext_lazy("Country - Operator"),
            DailyRouteStat,
            ("country", "operator"),
            sheet_title=gettext_lazy("By operator"),
        ),
        ReportKind(
            "sender",
            gettext_lazy("Grouping by sender ID"),
            gettext_lazy("Sender ID"),
            DailySenderStat,
            ("sender",),
            sheet_title=gettext_lazy("By sender ID"),
            channel=MessageChannel.SMS,
        ),
        ReportKind(
            "viber_sender",
            gettext_lazy("Grouping by Viber sender ID"),
            gettext_lazy("Sender ID"),
            DailySenderStat,
            ("sender",),
            sheet_title=gettext_lazy("By Viber sender ID"),
            channel=MessageChannel.VIBER,
        ),
        ReportKind(
            "country",
            gettext_lazy("Grouping by country"),
            gettext_lazy("Country"),
            DailyRouteStat,
            ("country",),
            sheet_title=gettext_lazy("By country"),
        ),
    )
}
DEFAULT_REPORT = "day"


@dataclass
class ReportRow:
    key: tuple
    label: str
    values: dict = field(default_factory=dict)  # the dimensions: day, country, operator, sender
    messages: int = 0
    sent: int = 0
    delivered: int = 0
    pending: int = 0
    failed: int = 0
    rejected: int = 0
    price: Decimal = Decimal("0")
    flag: str = ""  # e.g. "Pending approval" for a sender ID that is not approved

    @property
    def known(self) -> int:
        return self.sent - self.pending

    @property
    def efficiency(self) -> float | None:
        """Delivered out of the parts with a final report, in percent (None: nothing known)."""
        return round(self.delivered * 100 / self.known, 2) if self.known > 0 else None

    @property
    def label_sort(self):
        """A day sorts as a date (its label is in the tenant's format, 10/15/2026); any other
        group by its label."""
        return self.values.get("day") or self.label

    @property
    def efficiency_sort(self) -> float:
        return -1.0 if self.efficiency is None else self.efficiency

    def add(self, other: "ReportRow") -> None:
        for name in ("messages", "sent", "delivered", "pending", "failed", "rejected", "price"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Report:
    kind: ReportKind
    period: Period
    channel: str
    rows: list[ReportRow]
    totals: ReportRow

    def chart(self) -> dict:
        """What the page's Chart.js needs: by day, one point per day of the period (zero on
        days without traffic); otherwise the groups, largest first (at most 30)."""
        if self.kind.key == "day":
            by_day = {row.values["day"]: row for row in self.rows}
            labels, sent, delivered = [], [], []
            day = self.period.start
            while day <= self.period.end:
                row = by_day.get(day)
                labels.append(format_date(day))
                sent.append(row.sent if row else 0)
                delivered.append(row.delivered if row else 0)
                day += timedelta(days=1)
        else:
            top = sorted(self.rows, key=lambda r: (-r.sent, r.label))[:30]
            labels = [r.label for r in top]
            sent = [r.sent for r in top]
            delivered = [r.delivered for r in top]
        return {
            "type": self.kind.chart,
            "labels": labels,
            "datasets": [
                {"key": "sent", "label": _("Sent (parts)"), "data": sent},
                {"key": "delivered", "label": _("Delivered (parts)"), "data": delivered},
            ],
        }


def _label(kind: ReportKind, values: dict) -> str:
    if kind.key == "day":
        return format_date(values["day"])
    if kind.key == "operator":
        return f"{country_name(values['country'])} - {values['operator'] or UNKNOWN_OPERATOR}"
    if kind.key == "country":
        return country_name(values["country"])
    return values["sender"]


def sender_flags(*, client: Client, channel: str, names) -> dict[str, str]:
    """name -> flag for sender IDs that are not approved ("" for approved ones)."""
    statuses = {
        name.lower(): label
        for name, label in SenderId.objects.for_tenant(client.tenant)
        .filter(client=client, channel=channel)
        .values_list("name", "status")
    }
    flags = {}
    for name in names:
        status = statuses.get(name.lower())
        if status is None:
            flags[name] = _("Not registered")
        elif status != "approved":
            flags[name] = _("Not approved (%(status)s)") % {
                "status": str(SenderStatus(status).label).lower()
            }
        else:
            flags[name] = ""
    return flags


def rollup_rows(*, client: Client, kind: ReportKind, period: Period, channel: str = ""):
    """The aggregate query of one report (a values() queryset, one row per group)."""
    queryset = kind.model.objects.for_tenant(client.tenant).filter(
        client=client, day__gte=period.start, day__lte=period.end
    )
    channel = kind.channel or channel
    if channel:
        queryset = queryset.filter(channel=channel)
    return (
        queryset.values(*kind.dims)
        .annotate(**{f"sum_{name}": Sum(name) for name in SUM_FIELDS})
        .order_by(*kind.dims)
    )


def statistics_report(*, client: Client, report: str, period: Period, channel: str = "") -> Report:
    kind = REPORTS[report]
    rows = []
    for values in rollup_rows(client=client, kind=kind, period=period, channel=channel):
        dims = {d: values[d] for d in kind.dims}
        if isinstance(dims.get("day"), str):  # SQLite may hand back text
            dims["day"] = date.fromisoformat(dims["day"])
        rows.append(
            ReportRow(
                key=tuple(dims.values()),
                label=_label(kind, dims),
                values=dims,
                messages=values["sum_messages"] or 0,
                sent=values["sum_sent_parts"] or 0,
                delivered=values["sum_delivered_parts"] or 0,
                pending=values["sum_pending_parts"] or 0,
                failed=values["sum_failed_parts"] or 0,
                rejected=values["sum_rejected_parts"] or 0,
                price=Decimal(values["sum_price"] or 0),
            )
        )
    if kind.key in ("sender", "viber_sender") and rows:
        flags = sender_flags(client=client, channel=kind.channel, names=[r.label for r in rows])
        for row in rows:
            row.flag = flags.get(row.label, "")
    if kind.key == "operator":
        rows.sort(key=lambda r: r.label)
    totals = ReportRow(key=(), label=_("Total"))
    for row in rows:
        totals.add(row)
    return Report(
        kind=kind, period=period, channel=kind.channel or channel, rows=rows, totals=totals
    )

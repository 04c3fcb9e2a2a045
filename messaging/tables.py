"""Tables of the Statistics tab (aggregated rows of one report, with a totals row) and of the
Names tab (the client's sender IDs)."""

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from core.formatting import format_count, money
from core.tables import DayColumn
from tenancy.tables import BaseTable

from .models import SenderId, SenderStatus


def _int(value) -> str:
    return format_count(value)


# A figure column: right-aligned in its header, its cells and the totals row alike.
FIGURE = {"th": {"class": "text-end"}, "tf": {"class": "text-end font-monospace"}}


class StatisticsTable(tables.Table):
    """One report's rows. Sorting happens in memory (a report has at most a few hundred rows,
    already aggregated by the database); the totals row is the table's footer."""

    label = tables.Column(
        verbose_name=_("Group"),
        footer=_("Total"),
        attrs={"td": {"class": "text-nowrap"}},
        order_by=("label_sort",),
    )
    sent = tables.Column(
        verbose_name=_("Send SMS (parts)"),
        attrs={**FIGURE, "td": {"class": "text-end font-monospace"}},
        footer=lambda table: _int(table.totals.sent),
    )
    delivered = tables.Column(
        verbose_name=_("SMS (Parts) Delivered"),
        attrs={**FIGURE, "td": {"class": "text-end font-monospace"}},
        footer=lambda table: _int(table.totals.delivered),
    )
    pending = tables.Column(
        verbose_name=_("Awaiting report"),
        attrs={**FIGURE, "td": {"class": "text-end font-monospace text-body-secondary"}},
        footer=lambda table: _int(table.totals.pending),
    )
    efficiency = tables.Column(
        verbose_name=_("Efficiency"),
        accessor="efficiency",
        order_by=("efficiency_sort",),
        attrs={**FIGURE, "td": {"class": "text-end font-monospace"}},
        footer=lambda table: _percent(table.totals.efficiency),
    )
    price = tables.Column(
        verbose_name=_("SMS Price"),
        attrs={**FIGURE, "td": {"class": "text-end font-monospace"}},
        footer=lambda table: money(table.totals.price),
    )

    class Meta:
        attrs = {
            "class": "table table-sm table-hover align-middle mb-0",
            "data-testid": "statistics-table",
        }
        template_name = "messaging/statistics_table.html"
        order_by_field = "sort"
        empty_text = _("No messages in this period.")

    def __init__(self, data, *, group_label: str, totals, **kwargs):
        super().__init__(data, **kwargs)
        self.totals = totals
        self.columns["label"].column.verbose_name = group_label

    def fast_rows(self) -> list[tuple]:
        """The body's cells, formatted once in Python: a year by day is 365 rows, and
        django-tables2's per-cell rendering took 240 ms of the page for them."""
        return [
            (
                self.render_label(r.label, r),
                _int(r.sent),
                _int(r.delivered),
                _int(r.pending),
                _percent(r.efficiency),
                money(r.price),
            )
            for r in self.data
        ]

    def render_label(self, value, record):
        if record.flag:
            return format_html(
                '{} <span class="badge text-bg-warning" data-testid="sender-flag" '
                'title="{}">{}</span>',
                value,
                _("Messages from a sender ID that is not approved"),
                record.flag,
            )
        return value


def _percent(value) -> str:
    return "—" if value is None else f"{money(str(value))} %"


STATUS_BADGES = {
    SenderStatus.PENDING: "text-bg-secondary",
    SenderStatus.APPROVED: "text-bg-success",
    SenderStatus.REJECTED: "text-bg-danger",
    SenderStatus.BLOCKED: "text-bg-dark",
}


class SenderIdTable(BaseTable):
    name = tables.Column(verbose_name=_("Name"), attrs={"td": {"class": "font-monospace"}})
    channel = tables.Column(verbose_name=_("Channel"))
    status = tables.Column(verbose_name=_("Status"))
    questionnaire = tables.Column(
        verbose_name=_("Questionnaire"), accessor="purpose", orderable=False, empty_values=()
    )
    status_reason = tables.Column(verbose_name=_("Reason"), orderable=False)
    created_at = DayColumn(verbose_name=_("Added"))
    actions = tables.TemplateColumn(
        template_name="messaging/includes/sender_actions.html",
        verbose_name="",
        orderable=False,
        empty_values=(),
    )

    always_columns = ("name", "actions")
    default_order = "name"

    class Meta(BaseTable.Meta):
        model = SenderId
        fields = ()
        attrs = {
            "class": "table table-hover table-sm align-middle mb-0",
            "data-testid": "sender-table",
        }

    def render_status(self, value, record):
        return format_html(
            '<span class="badge {}" data-testid="sender-status">{}</span>',
            STATUS_BADGES.get(record.status, "text-bg-secondary"),
            record.get_status_display(),
        )

    def render_questionnaire(self, record):
        if record.questionnaire_complete:
            return format_html(
                '<span class="text-success" data-testid="questionnaire">{}</span>',
                pgettext("questionnaire", "Complete"),
            )
        return format_html(
            '<span class="text-warning-emphasis" data-testid="questionnaire">{}</span>',
            pgettext("questionnaire", "Incomplete"),
        )

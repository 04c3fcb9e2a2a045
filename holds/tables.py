"""The dashboard's tables: short lists (the first rows, soonest first), not paged lists, so
they are plain django-tables2 tables rather than BaseTable's operator-configured ones."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from core.tables import ClockColumn, DayColumn

DASHBOARD_ROWS = 20


class DashboardTable(tables.Table):
    class Meta:
        template_name = "django_tables2/bootstrap5.html"
        attrs = {"class": "table table-sm table-hover align-middle mb-0"}
        orderable = False


class ExpiringSubscriptionTable(DashboardTable):
    client = tables.Column(
        verbose_name=_("Client"),
        accessor="client__name",
        linkify=lambda record: record.client.get_absolute_url(),
    )
    package = tables.Column(verbose_name=_("Package"), accessor="package__name")
    end_date = DayColumn(verbose_name=_("Ends"))
    auto_renew = tables.BooleanColumn(verbose_name=_("Auto-renew"))

    class Meta(DashboardTable.Meta):
        attrs = {**DashboardTable.Meta.attrs, "data-testid": "expiring-table"}


class HoldTable(DashboardTable):
    client = tables.Column(
        verbose_name=_("Client"),
        accessor="client__name",
        linkify=lambda record: record.client.get_absolute_url(),
    )
    kind = tables.Column(verbose_name=_("Hold"), accessor="get_kind_display")
    reason = tables.Column(verbose_name=_("Reason"))
    set_by = tables.Column(verbose_name=_("Set by"), accessor="set_by_shown")
    set_at = ClockColumn(verbose_name=_("Set at"))
    lifted_at = ClockColumn(verbose_name=_("Lifted"), default=_("in force"))

    class Meta(DashboardTable.Meta):
        attrs = {**DashboardTable.Meta.attrs, "data-testid": "holds-today-table"}

"""Tables of packages and of a client's subscriptions (the history)."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.formatting import money
from core.tables import DayColumn
from tenancy.tables import BaseTable

from .models import Package, Subscription, tenant_today

STATUS_BADGES = {
    "active": "text-bg-success",
    "expiring": "text-bg-warning",
    "scheduled": "text-bg-info",
    "suspended": "text-bg-secondary",
    "cancelled": "text-bg-dark",
    "expired": "text-bg-light border",
}
STATUS_LABELS = {
    "active": pgettext_lazy("subscription status", "Active"),
    "expiring": pgettext_lazy("subscription status", "Expiring"),
    "scheduled": pgettext_lazy("subscription status", "Starts later"),
    "suspended": pgettext_lazy("subscription status", "Suspended"),
    "cancelled": pgettext_lazy("subscription status", "Cancelled"),
    "expired": pgettext_lazy("subscription status", "Expired"),
}


def subscription_badge(status: str) -> str:
    return format_html(
        '<span class="badge {}" data-subscription-status="{}">{}</span>',
        STATUS_BADGES.get(status, "text-bg-secondary"),
        status,
        STATUS_LABELS.get(status, status),
    )


class MoneyColumn(tables.Column):
    export_kind = "money"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "attrs",
            {"td": {"class": "text-end text-nowrap font-monospace"}, "th": {"class": "text-end"}},
        )
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money(value)


class PackageTable(BaseTable):
    name = tables.Column(
        verbose_name=gettext_lazy("Name"),
        linkify=("subscriptions:package_edit", {"pk": tables.A("pk")}),
    )
    price = MoneyColumn(verbose_name=gettext_lazy("Price"))
    period = tables.Column(
        verbose_name=gettext_lazy("Period"),
        accessor="period_count",
        order_by=("period_unit", "period_count"),
    )
    rate_limit = tables.Column(verbose_name=gettext_lazy("Rate limit"), default="—")
    pppoe_profile = tables.Column(verbose_name=gettext_lazy("PPPoE profile"), default="—")
    live_count = tables.Column(
        verbose_name=gettext_lazy("Active subscriptions"),
        attrs={"td": {"class": "text-end"}, "th": {"class": "text-end"}},
    )
    is_active = tables.Column(verbose_name=gettext_lazy("Status"))
    created_at = DayColumn(verbose_name=gettext_lazy("Created"))

    always_columns = ("name",)
    default_columns = ("price", "period", "rate_limit", "pppoe_profile", "live_count", "is_active")
    default_order = "name"

    class Meta(BaseTable.Meta):
        model = Package
        fields = ()
        row_attrs = {"data-package": lambda record: record.pk}

    def render_period(self, record):
        return record.period_label

    def render_is_active(self, value):
        if value:
            return format_html('<span class="badge text-bg-success">{}</span>', _("On sale"))
        return format_html('<span class="badge text-bg-secondary">{}</span>', _("Retired"))


class SubscriptionTable(BaseTable):
    """A client's subscription history, newest first. The status shown is derived (Expiring
    within the tenant's window, in its time zone)."""

    package = tables.Column(
        verbose_name=gettext_lazy("Package"), accessor="package__name", orderable=False
    )
    status = tables.Column(verbose_name=gettext_lazy("Status"), orderable=False)
    start_date = DayColumn(verbose_name=gettext_lazy("Start"))
    end_date = DayColumn(verbose_name=gettext_lazy("End"), orderable=False)
    amount_paid = MoneyColumn(verbose_name=gettext_lazy("Amount"), orderable=False)
    auto_renew = tables.BooleanColumn(verbose_name=gettext_lazy("Auto-renew"), orderable=False)
    view = tables.Column(verbose_name="", accessor="pk", orderable=False, empty_values=())

    always_columns = ("package", "status", "start_date", "end_date", "amount_paid", "view")
    default_order = "-start_date"

    class Meta(BaseTable.Meta):
        model = Subscription
        fields = ()
        row_attrs = {"data-subscription": lambda record: record.pk}

    @classmethod
    def for_request(cls, queryset, request, **kwargs):
        table = super().for_request(queryset, request, **kwargs)
        table.today = tenant_today(request.tenant)
        table.window = request.tenant.expiring_window_days
        return table

    def render_status(self, record):
        return subscription_badge(record.display_status(self.today, self.window))

    def render_amount_paid(self, record):
        if record.refunded_amount:
            return format_html(
                '{}<div class="small text-body-secondary">{}</div>',
                money(record.amount_paid),
                _("refunded %(amount)s") % {"amount": money(record.refunded_amount)},
            )
        return money(record.amount_paid)

    def render_view(self, record):
        return format_html(
            '<a href="{}" class="btn btn-sm btn-outline-secondary" '
            'data-testid="subscription-view">{}</a>',
            reverse("subscriptions:subscription_detail", kwargs={"pk": record.pk}),
            _("View"),
        )

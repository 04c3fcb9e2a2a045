import django_tables2 as tables
from django.db.models import F
from django.utils.html import format_html

from tenancy.tables import BaseTable

from .models import CreditLimitChange, LedgerEntry


class MoneyColumn(tables.Column):
    """A right-aligned amount with 2 decimals; empty cells stay empty."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "attrs",
            {"td": {"class": "text-end text-nowrap font-monospace"}, "th": {"class": "text-end"}},
        )
        kwargs.setdefault("empty_values", (None, ""))
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def render(self, value):
        return f"{value:,.2f}"


class LedgerEntryTable(BaseTable):
    """The Finance tab's transactions: Credit are costs (money out), Debit are top-ups (money
    in), as the operators' manual names them. Sortable by date only: the index
    (tenant, account, created_at, id) serves both directions."""

    created_at = tables.DateTimeColumn(verbose_name="Date", format="Y-m-d H:i")
    credit = MoneyColumn(verbose_name="Credit", accessor="credit", orderable=False)
    debit = MoneyColumn(verbose_name="Debit", accessor="debit", orderable=False)
    purpose = tables.Column(verbose_name="Purpose", orderable=False)
    balance_after = MoneyColumn(verbose_name="Balance", orderable=False)

    always_columns = ("created_at", "credit", "debit", "purpose", "balance_after")
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = LedgerEntry
        fields = ()
        row_attrs = {"data-entry": lambda record: record.pk}

    def _orderer(self, bound):
        # created_at is NOT NULL: plain ASC/DESC (no NULLS LAST), so that PostgreSQL reads the
        # index in either direction instead of sorting the period.
        def order(queryset, is_descending):
            if is_descending:
                return queryset.order_by(F("created_at").desc(), F("pk").desc()), True
            return queryset.order_by(F("created_at").asc(), F("pk").asc()), True

        return order

    def render_purpose(self, record, value):
        if record.comment:
            return format_html(
                '{}<div class="small text-body-secondary">{}</div>', value, record.comment
            )
        return value


class CreditLimitChangeTable(BaseTable):
    created_at = tables.DateTimeColumn(verbose_name="Date", format="Y-m-d H:i")
    old_limit = MoneyColumn(verbose_name="Old limit", orderable=False)
    new_limit = MoneyColumn(verbose_name="New limit", orderable=False)
    operator = tables.Column(verbose_name="Operator", orderable=False, default="System")
    notify = tables.BooleanColumn(verbose_name="Customer notified", orderable=False)

    related_for_columns = {"operator": ("operator",)}
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = CreditLimitChange
        fields = ()

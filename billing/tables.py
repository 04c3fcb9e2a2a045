import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.formatting import format_datetime, money
from core.tables import FieldColumn, MomentColumn, RecordColumn
from tenancy.tables import BaseTable

from .models import LedgerEntry


class MoneyColumn(tables.Column):
    """A right-aligned amount with 2 decimals; empty cells stay empty."""

    export_kind = "money"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "attrs",
            {"td": {"class": "text-end text-nowrap font-monospace"}, "th": {"class": "text-end"}},
        )
        kwargs.setdefault("empty_values", (None, ""))
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money(value)


class ClientAccountColumn(RecordColumn):
    """An amount of the client's account on the client list (contributed to
    clients.extensions: Balance, Credit); the account is fetched with the row."""

    export_kind = "money"

    def __init__(self, field: str, **kwargs):
        self.field = field
        kwargs.setdefault("accessor", f"account__{field}")
        kwargs.setdefault("attrs", {"td": {"class": "text-end"}})
        super().__init__(**kwargs)

    def cell(self, record, name):
        try:
            account = record.account
        except ObjectDoesNotExist:
            return FieldColumn.EMPTY
        return money(getattr(account, self.field))


class LedgerEntryTable(BaseTable):
    """The Finance tab's transactions: Credit are costs (money out), Debit are top-ups (money
    in), as the operators' manual names them. Sortable by date only: the index
    (tenant, account, created_at, id) serves both directions."""

    created_at = MomentColumn(verbose_name=_("Date"))
    credit = MoneyColumn(verbose_name=_("Credit"), accessor="credit", orderable=False)
    debit = MoneyColumn(verbose_name=_("Debit"), accessor="debit", orderable=False)
    purpose = tables.Column(verbose_name=_("Purpose"), orderable=False)
    balance_after = MoneyColumn(verbose_name=_("Balance"), orderable=False)

    always_columns = ("created_at", "credit", "debit", "purpose", "balance_after")
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = LedgerEntry
        fields = ()
        row_attrs = {"data-entry": lambda record: record.pk}
        template_name = "billing/ledger_table.html"

    def _orderer(self, bound):
        # created_at is NOT NULL: plain ASC/DESC (no NULLS LAST), so that PostgreSQL reads the
        # index in either direction instead of sorting the period.
        def order(queryset, is_descending):
            if is_descending:
                return queryset.order_by(F("created_at").desc(), F("pk").desc()), True
            return queryset.order_by(F("created_at").asc(), F("pk").asc()), True

        return order

    ROW_HTML = (
        '<tr data-entry="{}"><td>{}</td>'
        '<td class="text-end text-nowrap font-monospace">{}</td>'
        '<td class="text-end text-nowrap font-monospace">{}</td>'
        "<td>{}</td>"
        '<td class="text-end text-nowrap font-monospace">{}</td></tr>'
    )

    def tbody_html(self):
        """The page's rows, built here rather than cell by cell through django-tables2's
        template (which costs ~1.5 ms a row); the same cells as the columns above render.
        The columns are fixed (all always shown), so nothing depends on the column chooser."""
        rows = []
        for bound in self.page.object_list:
            entry = bound.record
            credit, debit = entry.credit, entry.debit
            rows.append(
                format_html(
                    self.ROW_HTML,
                    entry.pk,
                    format_datetime(entry.created_at),
                    money(credit) if credit is not None else "",
                    money(debit) if debit is not None else "",
                    self.render_purpose(entry, str(entry.purpose)),  # the reader's language
                    money(entry.balance_after),
                )
            )
        return mark_safe("".join(rows))  # noqa: S308 - every part went through format_html

    def render_purpose(self, record, value):
        if record.comment:
            return format_html(
                '{}<div class="small text-body-secondary">{}</div>', value, record.comment
            )
        return value

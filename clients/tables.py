"""The client list's table.

Only columns with an index that serves their order are sortable (ID, name, creation date,
last purchase date: `(tenant_id, column, id)` indexes, see models.py and migration 0002);
sorting a million rows on an unindexed column would take seconds. The billing app adds
Balance and Credit (from `billing.Account`) after `sms_price`; the routers app adds the
connection status. Which columns a tenant is offered, shows by default and sorts on by
default is declared in clients/modules.py.
"""

from html import escape

import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django_tables2.rows import BoundRows

from core.formatting import format_date, money
from tenancy.tables import BaseTable, DayColumn, MomentColumn

from .models import Channel, Client, ClientStatus
from .modules import LIST_COLUMNS, default_columns_for, default_sort_for
from .selectors import normalize_term

STATUS_BADGE_CLASSES = {
    ClientStatus.ACTIVE: "text-bg-success",
    ClientStatus.ADMINISTRATIVE_HOLD: "text-bg-warning",
    ClientStatus.FINANCIAL_HOLD: "text-bg-danger",
    ClientStatus.DELETED: "text-bg-secondary",
}


STATUS_LABELS = dict(ClientStatus.choices)
CHANNEL_LABELS = dict(Channel.choices)


def status_badge(client) -> str:
    """The same badge as clients/status_badge.html, built without a template: the list renders
    it on every row, where a template render per cell costs more than the query."""
    status = client.status
    return mark_safe(  # noqa: S308 - every value escaped
        f'<span class="badge {STATUS_BADGE_CLASSES.get(status, "text-bg-secondary")}" '
        f'data-status="{escape(status)}">{escape(STATUS_LABELS.get(status, status))}</span>'
    )


class ClientNameColumn(tables.Column):
    """ID, name (a real link, so it opens in a new tab) and the status as a badge."""

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "Client name")
        kwargs.setdefault("accessor", "name")
        kwargs.setdefault("order_by", ("name",))
        # Long names wrap (the list fits 1,440 px); the number and the badge never break.
        kwargs.setdefault("attrs", {"td": {"class": "client-name-cell"}})
        super().__init__(**kwargs)

    def render(self, record, url=None):
        return mark_safe(  # noqa: S308 - every value escaped
            f'<span class="text-body-secondary small me-1 text-nowrap">#{record.number}</span>'
            f'<a href="{escape(url or client_url(record))}" class="fw-semibold" '
            f'data-testid="client-link">{escape(record.name)}</a> {status_badge(record)}'
        )


class StatusColumn(tables.Column):
    def render(self, record):
        return status_badge(record)


class ContactColumn(tables.Column):
    """The contact person's name and, under it, their e-mail."""

    def render(self, record):
        name, email = record.contact_name, record.contact_email
        if email:
            return format_html(
                '<div>{}</div><div class="small text-body-secondary">{}</div>', name, email
            )
        return name

    def value(self, record, value):
        return " ".join(p for p in (record.contact_name, record.contact_email) if p)


def client_url(client) -> str:
    return reverse("clients:client_detail", kwargs={"number": client.number})


def _text(value) -> str:
    """A cell's text, escaped; — when empty."""
    return "—" if value in (None, "") else escape(str(value))


def _date(value) -> str:
    return "—" if value is None else escape(format_date(value))


def connection_cell(client) -> str:
    """The routers app's 🟢 Online / 🔴 Offline / ⚪ Unknown (and why) of the client's PPPoE
    account (fetched with the row and its router through related_for_columns: no query per
    row); — without one."""
    from routers.tables import account_status_html

    try:
        account = client.pppoe_account
    except ObjectDoesNotExist:
        account = None
    return account_status_html(account)


# The cells of the list rendered without django-tables2's per-cell machinery (which inspects
# each render method's signature for every cell: about 1.7 ms a row). A column not named here
# (e.g. one another app adds) is rendered by django-tables2 as usual.
FAST_CELLS = {
    "name": lambda table, c, url: ClientNameColumn.render(None, c, url),
    "number": lambda table, c, url: str(c.number),
    "login": lambda table, c, url: _text(c.login),
    "company": lambda table, c, url: _text(c.company),
    "email": lambda table, c, url: _text(c.email),
    "phone": lambda table, c, url: _text(c.phone),
    "contact": lambda table, c, url: conditional_escape(ContactColumn.render(None, c)) or "—",
    "itn": lambda table, c, url: _text(c.itn),
    "created_at": lambda table, c, url: _date(c.created_at),
    "last_purchase_at": lambda table, c, url: _date(c.last_purchase_at),
    "group": lambda table, c, url: _text(c.group.name if c.group_id else None),
    "status": lambda table, c, url: status_badge(c),
    "sms_price": lambda table, c, url: f"{c.sms_price:.4f}",
    "channel": lambda table, c, url: _text(CHANNEL_LABELS.get(c.channel, c.channel)),
    "external_tenant_name": lambda table, c, url: _text(c.external_tenant_name),
    "connection": lambda table, c, url: conditional_escape(connection_cell(c)),
}


class ClientTable(BaseTable):
    name = ClientNameColumn()
    number = tables.Column(verbose_name="ID")
    login = tables.Column(verbose_name="Login", orderable=False)
    company = tables.Column(orderable=False)
    email = tables.Column(verbose_name="E-mail", orderable=False)
    phone = tables.Column(verbose_name="Phone", orderable=False)
    contact = ContactColumn(verbose_name="Contact person", accessor="contact_name", orderable=False)
    itn = tables.Column(verbose_name="ITN", orderable=False)
    created_at = DayColumn(verbose_name="Creation date")
    last_purchase_at = DayColumn(verbose_name="Last purchase date")
    group = tables.Column(verbose_name="Client type", accessor="group__name", orderable=False)
    status = StatusColumn(verbose_name="Status", orderable=False)
    sms_price = tables.Column(
        verbose_name="SMS price", orderable=False, attrs={"td": {"class": "text-end"}}
    )
    balance = tables.Column(
        verbose_name="Balance", accessor="account__balance", attrs={"td": {"class": "text-end"}}
    )
    credit = tables.Column(
        verbose_name="Credit",
        accessor="account__credit_limit",
        orderable=False,
        attrs={"td": {"class": "text-end"}},
    )
    channel = tables.Column(orderable=False, accessor="get_channel_display")
    external_tenant_name = tables.Column(verbose_name="External tenant name", orderable=False)
    connection = tables.Column(
        verbose_name="Connection",
        accessor="pppoe_account__status",
        orderable=False,
        empty_values=(),
    )

    always_columns = ("name",)
    column_modules = LIST_COLUMNS  # the tenant's modules decide (clients/modules.py)
    related_for_columns = {
        "group": ("group",),
        "balance": ("account",),
        "credit": ("account",),
        "connection": ("pppoe_account", "pppoe_account__router"),
    }
    default_order = "-last_purchase_at"  # replaced per tenant: see apply_order
    deferred_join_offset = 1000  # from this many rows skipped, see apply_pagination
    sort_matches_limit = 2000  # a search with at most this many matches sorts them all

    @property
    def searching(self) -> bool:
        request = getattr(self, "request", None)
        return bool(request and normalize_term(request.GET.get("q")))

    @classmethod
    def default_columns_for(cls, tenant) -> tuple[str, ...]:
        return default_columns_for(tenant)

    @classmethod
    def column_sequence(cls, tenant) -> tuple[str, ...]:
        """The default columns lead, in their module's order; the others follow."""
        return (*default_columns_for(tenant), "...")

    def apply_order(self, requested: str | None) -> None:
        self.default_order = default_sort_for(getattr(self.request, "tenant", None))
        super().apply_order(requested)

    def render_connection(self, record):
        return connection_cell(record)

    class Meta(BaseTable.Meta):
        model = Client
        fields = ()
        empty_text = "No clients match."
        template_name = "clients/client_table.html"
        row_attrs = {
            "data-href": lambda record: client_url(record),
            "class": "row-link",
            "data-client": lambda record: record.number,
        }

    def apply_pagination(self, request) -> None:
        """Deep pages are read in two steps: the page's ids from the sort index alone (an
        index-only scan: the indexes of the default sort and the status filter carry the
        status), then those rows by primary key. A plain OFFSET would read the full row of
        every client it skips: 14.7 s instead of about 0.15 s at offset 768,000 of 1,000,000
        clients, with the table bigger than the cache."""
        super().apply_pagination(request)
        page, per_page = self.page, self.paginator.per_page
        offset = (page.number - 1) * per_page
        ordered = self.data.data
        if self.searching and self.paginator.count <= self.sort_matches_limit:
            # Few matches: take them all by the search's own index, then sort those. Left to
            # itself PostgreSQL may walk the sort index hoping to meet a rare match early; for
            # '+7909114' in 1,000,000 clients that took 12 s instead of 50 ms.
            ids = list(ordered.order_by().values_list("pk", flat=True)[: self.sort_matches_limit])
            rows = ordered.filter(pk__in=ids)[offset : offset + per_page]
            page.object_list = BoundRows(rows, table=self)
            return
        if offset < self.deferred_join_offset:
            return
        ids = list(ordered.values_list("pk", flat=True)[offset : offset + per_page])
        by_pk = {client.pk: client for client in ordered.order_by().filter(pk__in=ids)}
        page.object_list = BoundRows([by_pk[pk] for pk in ids if pk in by_pk], table=self)

    def rows_html(self) -> str:
        """The page's <tr> rows (see FAST_CELLS); rendered by clients/client_table.html."""
        columns = [
            (bound.name, bound.attrs["td"].as_html(), FAST_CELLS.get(bound.name))
            for bound in self.columns
        ]
        # One reverse() for the page: the detail URL differs only by the number.
        url_pattern = reverse("clients:client_detail", kwargs={"number": 1234567890})
        # Every cell function returns escaped HTML (stdlib html.escape: format_html per cell
        # was the largest cost of a 100-row page); other columns go through django-tables2.
        rows = []
        for bound_row in self.page.object_list:
            client = bound_row.record
            url = url_pattern.replace("1234567890", str(client.number))
            cells = "".join(
                f"<td {td}>{fast(self, client, url) if fast else self._slow_cell(bound_row, name)}"
                "</td>"
                for name, td, fast in columns
            )
            rows.append(
                f'<tr class="row-link" data-href="{escape(url)}" data-client="{client.number}">'
                f"{cells}</tr>"
            )
        if not rows:
            return format_html(
                '<tr><td colspan="{}" class="text-center text-body-secondary py-3">{}</td></tr>',
                len(columns),
                self.empty_text,
            )
        return mark_safe("".join(rows))  # noqa: S308 - every cell and attribute escaped

    @staticmethod
    def _slow_cell(bound_row, name: str) -> str:
        return conditional_escape(bound_row.get_cell(name))

    def _orderer(self, bound):
        """Names sort without regard to case ("alpha" before "Bravo"), on the
        `(tenant_id, lower(name), id)` index; the other columns as BaseTable does."""
        if bound.name != "name":
            return super()._orderer(bound)

        def order(queryset, is_descending):
            key, pk = Lower("name"), F("pk")
            keys = (key.desc(), pk.desc()) if is_descending else (key.asc(), pk.asc())
            return queryset.order_by(*keys), True

        return order

    def render_sms_price(self, value):
        return f"{value:.4f}"

    def render_balance(self, value):
        return money(value)  # billing.Account, created with the client

    def render_credit(self, value):
        return money(value)


class ClientActivityTable(BaseTable):
    """A client's whole activity, newest first (the client page shows the latest lines). Sorted
    by time only: the index (tenant, client, created_at DESC, id DESC) serves it."""

    created_at = MomentColumn(verbose_name="When")
    description = tables.Column(verbose_name="What happened", orderable=False)
    who = tables.Column(verbose_name="Who", accessor="who", orderable=False, empty_values=())

    always_columns = ("created_at", "description", "who")
    related_for_columns = {"who": ("actor",)}
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = None
        fields = ()
        row_attrs = {"data-activity": lambda record: record.verb}

    def _orderer(self, bound):
        def order(queryset, is_descending):
            if is_descending:
                return queryset.order_by(F("created_at").desc(), F("pk").desc()), True
            return queryset.order_by(F("created_at").asc(), F("pk").asc()), True

        return order

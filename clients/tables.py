"""The client list's table.

Only columns with an index that serves their order are sortable (ID, name, creation date,
last purchase date: `(tenant_id, column, id)` indexes, see models.py and migration 0002);
sorting a million rows on an unindexed column would take seconds. The apps above add their
columns through clients.extensions (billing: Balance and Credit after the SMS price; routers:
the connection status); which columns a tenant is offered, shows by default and sorts on by
default is declared in clients/modules.py and with each contributed column.

The rows come from clients/client_table.html; each cell is its column's `cell(record, name)`
(tenancy.tables.RecordColumn), called directly: django-tables2's own per-cell rendering looks
up the arguments of each render method for every cell, which costs more than the page's query.
A contributed column that is not a RecordColumn is rendered by django-tables2 as usual.
"""

import functools
from collections import OrderedDict
from dataclasses import dataclass

import django_tables2 as tables
from django.db.models import F
from django.db.models.functions import Lower
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django_tables2.rows import BoundRows

from core.formatting import format_date, money
from core.tables import FieldColumn, MomentColumn, RecordColumn
from tenancy.tables import BaseTable

from .extensions import LIST_COLUMNS, bulk_actions_for
from .models import Channel, Client, ClientStatus
from .modules import default_columns_for, default_sort_for, list_column_modules
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
    """The same badge as clients/status_badge.html, without a template render per row."""
    return _status_badge(client.status, get_language())


@functools.cache
def _status_badge(status: str, language: str | None) -> str:
    """One of a handful of badges, built once per language: the list shows one on every row."""
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        STATUS_BADGE_CLASSES.get(status, "text-bg-secondary"),
        status,
        STATUS_LABELS.get(status, status),
    )


class ClientNameColumn(RecordColumn):
    """ID, name (a real link, so it opens in a new tab) and the status as a badge."""

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", _("Client name"))
        kwargs.setdefault("accessor", "name")
        kwargs.setdefault("order_by", ("name",))
        # Long names wrap (the list fits 1,440 px); the number and the badge never break.
        kwargs.setdefault("attrs", {"td": {"class": "client-name-cell"}})
        super().__init__(**kwargs)

    def cell(self, record, name):
        return format_html(
            '<span class="text-body-secondary small me-1 text-nowrap">#{}</span>'
            '<a href="{}" class="fw-semibold" data-testid="client-link">{}</a> {}',
            record.number,
            client_url(record),
            record.name,
            status_badge(record),
        )


def client_url(client) -> str:
    """The client's page (Client.get_absolute_url), kept on the row's client: the name's link
    and the row's data-href both need it, and a reverse() costs as much as the row's cells."""
    url = getattr(client, "list_url", None)
    if url is None:
        url = client.list_url = client.get_absolute_url()
    return url


class SelectColumn(RecordColumn):
    """The tick box of each row, part of the bulk actions' form (clients/includes/bulk_bar.html)
    by its `form` attribute; the header's box ticks the whole page (client_list.js)."""

    HEADER = (
        '<input type="checkbox" class="form-check-input" data-bulk-page '
        'aria-label="{}" data-testid="bulk-select-page">'
    )

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", _("Select"))
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("attrs", {"td": {"class": "bulk-select-cell"}})
        super().__init__(**kwargs)

    @property
    def header(self):
        return format_html(self.HEADER, _("Select this page"))

    def cell(self, record, name):
        return format_html(
            '<input type="checkbox" class="form-check-input" name="client" value="{}" '
            'form="client-bulk-form" aria-label="{}" data-bulk-row>',
            record.pk,
            _select_label(record.number),
        )


def _select_label(number) -> str:
    return gettext("Select #%(number)s") % {"number": number}


class StatusColumn(RecordColumn):
    def cell(self, record, name):
        return status_badge(record)


class ContactColumn(RecordColumn):
    """The contact person's name and, under it, their e-mail."""

    def cell(self, record, name):
        contact, email = record.contact_name, record.contact_email
        if email:
            return format_html(
                '<div>{}</div><div class="small text-body-secondary">{}</div>', contact, email
            )
        return contact or FieldColumn.EMPTY

    def value(self, record, value):
        return " ".join(p for p in (record.contact_name, record.contact_email) if p)

    export_reads = ("contact_name", "contact_email")

    def export_value(self, record):
        return self.value(record, None)


class GroupColumn(RecordColumn):
    """The client type's name (the group is fetched with the row: related_for_columns)."""

    def cell(self, record, name):
        return record.group.name if record.group_id else FieldColumn.EMPTY


def sms_price_text(value) -> str:
    return money(value, places=4)


def channel_label(value) -> str:
    return str(CHANNEL_LABELS.get(value, value))


class ClientTable(BaseTable):
    select = SelectColumn()
    name = ClientNameColumn()
    number = FieldColumn(verbose_name=_("ID"))
    login = FieldColumn(verbose_name=_("Login"), orderable=False)
    company = FieldColumn(verbose_name=_("Company"), orderable=False)
    email = FieldColumn(verbose_name=_("E-mail"), orderable=False)
    phone = FieldColumn(verbose_name=_("Phone"), orderable=False)
    contact = ContactColumn(
        verbose_name=_("Contact person"), accessor="contact_name", orderable=False
    )
    itn = FieldColumn(verbose_name=_("ITN"), orderable=False)
    created_at = FieldColumn(verbose_name=_("Creation date"), format=format_date)
    last_purchase_at = FieldColumn(verbose_name=_("Last purchase date"), format=format_date)
    group = GroupColumn(verbose_name=_("Client type"), accessor="group__name", orderable=False)
    status = StatusColumn(verbose_name=_("Status"), orderable=False)
    sms_price = FieldColumn(
        verbose_name=_("SMS price"),
        orderable=False,
        format=sms_price_text,
        attrs={"td": {"class": "text-end"}},
    )
    channel = FieldColumn(verbose_name=_("Channel"), orderable=False, format=channel_label)
    external_tenant_name = FieldColumn(verbose_name=_("External tenant name"), orderable=False)

    always_columns = ("select", "name")
    own_related_for_columns = {"group": ("group",)}
    default_order = "-last_purchase_at"  # replaced per tenant: see apply_order
    deferred_join_offset = 1000  # from this many rows skipped, see apply_pagination
    sort_matches_limit = 2000  # a search with at most this many matches sorts them all

    class Meta(BaseTable.Meta):
        model = Client
        fields = ()
        empty_text = _("No clients match.")
        template_name = "clients/client_table.html"
        row_attrs = {
            "data-href": lambda record: client_url(record),
            "class": "row-link",
            "data-client": lambda record: record.number,
        }

    # -- the columns the apps above contribute (clients.extensions) ---------------------------
    _own_columns: OrderedDict | None = None
    _contributions_version = -1

    @classmethod
    def prepare_columns(cls) -> None:
        """Add the registered columns, each after the one it follows in the chooser, with
        their modules and related rows; again only when the registry changed."""
        if cls._contributions_version == LIST_COLUMNS.version:
            return
        if cls._own_columns is None:
            cls._own_columns = OrderedDict(cls.base_columns)
        ordered = list(cls._own_columns.items())
        for contributed in LIST_COLUMNS.all():
            names = [name for name, _ in ordered]
            after = contributed.after
            position = names.index(after) + 1 if after in names else len(ordered)
            ordered.insert(position, (contributed.name, contributed.column))
        cls.base_columns = OrderedDict(ordered)
        cls.column_modules = list_column_modules()  # the tenant's modules decide
        cls.related_for_columns = {
            **cls.own_related_for_columns,
            **{c.name: c.related for c in LIST_COLUMNS.all() if c.related},
        }
        cls._contributions_version = LIST_COLUMNS.version

    @property
    def searching(self) -> bool:
        request = getattr(self, "request", None)
        return bool(request and normalize_term(request.GET.get("q")))

    @classmethod
    def default_columns_for(cls, tenant) -> tuple[str, ...]:
        return default_columns_for(tenant)

    @classmethod
    def column_sequence(cls, tenant) -> tuple[str, ...]:
        """The tick boxes, then the default columns, in their module's order; the others
        follow."""
        return ("select", *default_columns_for(tenant), "...")

    @classmethod
    def for_request(cls, queryset, request, **kwargs) -> "ClientTable":
        """The tick boxes show only to an operator who may run some bulk action."""
        if not bulk_actions_for(getattr(request, "membership", None)):
            tenant = getattr(request, "tenant", None)
            kwargs.setdefault("exclude", (*cls.hidden_by_modules(tenant), "select"))
        return super().for_request(queryset, request, **kwargs)

    def apply_order(self, requested: str | None) -> None:
        self.default_order = default_sort_for(getattr(self.request, "tenant", None))
        super().apply_order(requested)

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

    # -- rows ----------------------------------------------------------------------------------
    def page_rows(self) -> list["ClientRow"]:
        """The page's rows for clients/client_table.html: each client with its URL and its
        cells, one `cell()` call per cell (see the module's docstring), joined into the row's
        <td>s here (a template loop per cell would cost as much as the rest of the page)."""
        columns = [
            (bound.name, bound.attrs["td"].as_html(), cell_function(bound.column))
            for bound in self.columns
        ]
        rows = []
        for bound_row in self.page.object_list:
            client = bound_row.record
            cells = [
                (td, cell(client, name) if cell else bound_row.get_cell(name))
                for name, td, cell in columns
            ]
            rows.append(
                ClientRow(
                    client=client,
                    url=client_url(client),
                    cells=format_html_join("", "<td {}>{}</td>", cells),
                )
            )
        return rows

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


@dataclass(frozen=True)
class ClientRow:
    client: Client
    url: str
    cells: str  # the row's <td>s, every value escaped


def cell_function(column):
    """The column's `cell(record, name)`, or None for django-tables2's own rendering."""
    return column.cell if isinstance(column, RecordColumn) else None


class ClientActivityTable(BaseTable):
    """A client's whole activity, newest first (the client page shows the latest lines). Sorted
    by time only: the index (tenant, client, created_at DESC, id DESC) serves it."""

    created_at = MomentColumn(verbose_name=_("When"))
    description = tables.Column(verbose_name=_("What happened"), orderable=False)
    who = tables.Column(verbose_name=_("Who"), accessor="who", orderable=False, empty_values=())

    always_columns = ("created_at", "description", "who")
    related_for_columns = {"who": ("actor",)}
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = None
        fields = ()
        row_attrs = {"data-activity": lambda record: record.type}

    def _orderer(self, bound):
        def order(queryset, is_descending):
            if is_descending:
                return queryset.order_by(F("created_at").desc(), F("pk").desc()), True
            return queryset.order_by(F("created_at").asc(), F("pk").asc()), True

        return order

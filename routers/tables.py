"""Tables of the Routers page and the PPPoE accounts list."""

import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from clients.signals import access_reason_label
from core.formatting import format_datetime
from core.tables import RecordColumn
from tenancy.tables import BaseTable

from .availability import Unavailable, why_unavailable
from .models import ConnectionStatus, PppoeAccount, Router


def connection_status_html(status: str | None, why: Unavailable | None = None) -> str:
    """Online / Offline / Unknown with a coloured dot drawn by CSS (green, red, hollow grey), so
    that the indicator shows on desktops without an emoji font; the word beside it is what a
    screen reader reads. An Unknown status given `why` says in a short word why it is
    unavailable, and in full in the tooltip. Used by the client list, the accounts list and
    the client page."""
    if not status:
        return mark_safe('<span class="text-body-secondary" data-connection="none">—</span>')  # noqa: S308
    label = ConnectionStatus(status).label
    if why is None:
        return format_html(
            '<span class="text-nowrap" data-connection="{0}">'
            '<span class="status-dot status-dot-{0}" aria-hidden="true"></span>{1}</span>',
            status,
            label,
        )
    return format_html(
        '<span class="text-nowrap" data-connection="{0}" data-unavailable="{2}" '
        'title="Connection status unavailable: {3}">'
        '<span class="status-dot status-dot-{0}" aria-hidden="true"></span>{1} '
        '<small class="text-body-secondary">({2})</small></span>',
        status,
        label,
        why.word,
        why.reason,
    )


def account_status_html(account) -> str:
    """The status of a PPPoE account (its router selected with it), or — without one."""
    if account is None:
        return connection_status_html(None)
    return connection_status_html(account.status, why_unavailable(account))


class ClientConnectionColumn(RecordColumn):
    """The client list's Connection column (contributed to clients.extensions): the status of
    the client's PPPoE account, fetched with the row and its router (no query per row); —
    without one."""

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "Connection")
        kwargs.setdefault("accessor", "pppoe_account__status")
        kwargs.setdefault("orderable", False)
        super().__init__(**kwargs)

    def cell(self, record, name):
        try:
            account = record.pppoe_account
        except ObjectDoesNotExist:
            account = None
        return account_status_html(account)


def short_datetime(value) -> str:
    return format_datetime(value) if value else "—"


class RouterTable(BaseTable):
    name = tables.Column(linkify=("routers:router_edit", {"pk": tables.A("pk")}))
    address = tables.Column(verbose_name="Address", accessor="host", order_by=("host", "port"))
    state = tables.Column(
        verbose_name="Status", accessor="is_reachable", orderable=False, empty_values=()
    )
    last_polled_at = tables.Column(verbose_name="Last poll")
    last_error = tables.Column(verbose_name="Last error", orderable=False)
    sessions_online = tables.Column(
        verbose_name="Sessions online", attrs={"td": {"class": "text-end"}}
    )
    accounts_count = tables.Column(
        verbose_name="Accounts", attrs={"td": {"class": "text-end"}}, orderable=False
    )
    identity = tables.Column(verbose_name="RouterOS identity", orderable=False)
    version = tables.Column(verbose_name="Version", orderable=False)

    always_columns = ("name",)
    default_columns = (
        "address",
        "state",
        "last_polled_at",
        "last_error",
        "sessions_online",
        "accounts_count",
    )
    default_order = "name"

    class Meta(BaseTable.Meta):
        model = Router
        fields = ()
        empty_text = "No routers yet."
        row_attrs = {"data-router": lambda record: record.pk}

    def render_address(self, record):
        tls = " 🔒" if record.use_tls else ""
        return f"{record.address}{tls}"

    def render_state(self, record):
        label = record.status_label
        css = {
            "Reachable": "text-bg-success",
            "Unreachable": "text-bg-danger",
            "Disabled": "text-bg-secondary",
        }.get(label, "text-bg-light")
        return format_html('<span class="badge {}" data-state="{}">{}</span>', css, label, label)

    def render_last_polled_at(self, value):
        return short_datetime(value)

    def render_last_error(self, record):
        if not record.last_error:
            return "—"
        return format_html('<span class="small text-danger">{}</span>', record.last_error)


class PppoeAccountTable(BaseTable):
    username = tables.Column(verbose_name="PPPoE username")
    client = tables.Column(
        verbose_name="Client", accessor="client__name", order_by=("client__number",)
    )
    router = tables.Column(verbose_name="Router", accessor="router__name", orderable=False)
    status = tables.Column(verbose_name="Status")
    last_seen_at = tables.Column(verbose_name="Last seen")
    address = tables.Column(verbose_name="Address", orderable=False)
    caller_id = tables.Column(verbose_name="Caller ID", orderable=False)
    uptime = tables.Column(orderable=False)
    enabled = tables.Column(verbose_name="Access", orderable=False)
    sync_state = tables.Column(verbose_name="On the router", orderable=False)

    always_columns = ("username",)
    related_for_columns = {"client": ("client",), "router": ("router",), "status": ("router",)}
    default_order = "username"

    class Meta(BaseTable.Meta):
        model = PppoeAccount
        fields = ()
        empty_text = "No PPPoE accounts match."

    def render_client(self, record):
        url = reverse("routers:client_connection", kwargs={"number": record.client.number})
        return format_html('<a href="{}">#{} {}</a>', url, record.client.number, record.client.name)

    def render_status(self, record):
        return account_status_html(record)

    def render_last_seen_at(self, value):
        return short_datetime(value)

    def render_enabled(self, record):
        if record.enabled:
            return "Enabled"
        return format_html(
            '<span class="text-danger">Disabled</span> '
            '<small class="text-body-secondary">{}</small>',
            access_reason_label(record.disabled_reason),
        )

    def render_sync_state(self, record):
        return record.get_sync_state_display()

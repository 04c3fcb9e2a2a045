"""Tables of the Routers page and the PPPoE accounts list."""

import django_tables2 as tables
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

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
        'title="{3}">'
        '<span class="status-dot status-dot-{0}" aria-hidden="true"></span>{1} '
        '<small class="text-body-secondary">({2})</small></span>',
        status,
        label,
        why.word,
        _("Connection status unavailable: %(reason)s") % {"reason": why.reason},
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
        kwargs.setdefault("verbose_name", gettext_lazy("Connection"))
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
    name = tables.Column(
        verbose_name=gettext_lazy("Name"),
        linkify=("routers:router_edit", {"pk": tables.A("pk")}),
    )
    address = tables.Column(
        verbose_name=gettext_lazy("Address"), accessor="host", order_by=("host", "port")
    )
    state = tables.Column(
        verbose_name=gettext_lazy("Status"),
        accessor="is_reachable",
        orderable=False,
        empty_values=(),
    )
    last_polled_at = tables.Column(verbose_name=gettext_lazy("Last poll"))
    last_error = tables.Column(verbose_name=gettext_lazy("Last error"), orderable=False)
    sessions_online = tables.Column(
        verbose_name=gettext_lazy("Sessions online"), attrs={"td": {"class": "text-end"}}
    )
    accounts_count = tables.Column(
        verbose_name=gettext_lazy("Accounts"), attrs={"td": {"class": "text-end"}}, orderable=False
    )
    identity = tables.Column(verbose_name=gettext_lazy("RouterOS identity"), orderable=False)
    version = tables.Column(verbose_name=gettext_lazy("Version"), orderable=False)

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
        empty_text = gettext_lazy("No routers yet.")
        row_attrs = {"data-router": lambda record: record.pk}

    def render_address(self, record):
        tls = " 🔒" if record.use_tls else ""
        return f"{record.address}{tls}"

    def render_state(self, record):
        state = record.state_key
        css = {
            "reachable": "text-bg-success",
            "unreachable": "text-bg-danger",
            "disabled": "text-bg-secondary",
        }.get(state, "text-bg-light")
        return format_html(
            '<span class="badge {}" data-state="{}">{}</span>', css, state, record.status_label
        )

    def render_last_polled_at(self, value):
        return short_datetime(value)

    def render_last_error(self, record):
        """The error in the reader's language (the poller stored its message)."""
        if not record.last_error:
            return "—"
        return format_html('<span class="small text-danger">{}</span>', str(record.last_error))


class PppoeAccountTable(BaseTable):
    username = tables.Column(verbose_name=gettext_lazy("PPPoE username"))
    client = tables.Column(
        verbose_name=gettext_lazy("Client"), accessor="client__name", order_by=("client__number",)
    )
    router = tables.Column(
        verbose_name=gettext_lazy("Router"), accessor="router__name", orderable=False
    )
    status = tables.Column(verbose_name=gettext_lazy("Status"))
    last_seen_at = tables.Column(verbose_name=gettext_lazy("Last seen"))
    address = tables.Column(verbose_name=gettext_lazy("Address"), orderable=False)
    caller_id = tables.Column(verbose_name=gettext_lazy("Caller ID"), orderable=False)
    uptime = tables.Column(verbose_name=gettext_lazy("Uptime"), orderable=False)
    enabled = tables.Column(verbose_name=gettext_lazy("Access"), orderable=False)
    sync_state = tables.Column(verbose_name=gettext_lazy("On the router"), orderable=False)

    always_columns = ("username",)
    related_for_columns = {"client": ("client",), "router": ("router",), "status": ("router",)}
    default_order = "username"

    class Meta(BaseTable.Meta):
        model = PppoeAccount
        fields = ()
        empty_text = gettext_lazy("No PPPoE accounts match.")

    def render_client(self, record):
        url = reverse("routers:client_connection", kwargs={"number": record.client.number})
        return format_html('<a href="{}">#{} {}</a>', url, record.client.number, record.client.name)

    def render_status(self, record):
        return account_status_html(record)

    def render_last_seen_at(self, value):
        return short_datetime(value)

    def render_enabled(self, record):
        if record.enabled:
            return pgettext("router access", "Enabled")
        return format_html(
            '<span class="text-danger">{}</span> <small class="text-body-secondary">{}</small>',
            pgettext("router access", "Disabled"),
            access_reason_label(record.disabled_reason),
        )

    def render_sync_state(self, record):
        return record.get_sync_state_display()

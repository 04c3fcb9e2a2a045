"""The client list's table.

Only columns with an index that serves their order are sortable (ID, name, creation date,
last purchase date: `(tenant_id, column, id)` indexes, see models.py and migration 0002);
sorting a million rows on an unindexed column would take seconds. The billing app adds
Balance and Credit (from `billing.Account`) after `sms_price`; the routers app adds the
connection status.
"""

import django_tables2 as tables
from django.template.loader import get_template
from django.urls import reverse

from tenancy.tables import BaseTable

from .models import Client


class ClientNameColumn(tables.Column):
    """ID, name (a real link, so it opens in a new tab) and the status as a badge."""

    def __init__(self, **kwargs):
        kwargs.setdefault("verbose_name", "Client name")
        kwargs.setdefault("accessor", "name")
        kwargs.setdefault("order_by", ("name",))
        kwargs.setdefault("attrs", {"td": {"class": "text-nowrap"}})
        super().__init__(**kwargs)

    def render(self, record):
        return get_template("clients/client_name_cell.html").render({"client": record})


class StatusColumn(tables.Column):
    def render(self, record):
        return get_template("clients/status_badge.html").render(
            {"status": record.status, "label": record.get_status_display()}
        )


class ClientTable(BaseTable):
    name = ClientNameColumn()
    number = tables.Column(verbose_name="ID")
    login = tables.Column(verbose_name="Login", orderable=False)
    company = tables.Column(orderable=False)
    contact = tables.TemplateColumn(
        verbose_name="Contact person",
        accessor="contact_name",
        template_name="clients/contact_cell.html",
        orderable=False,
    )
    itn = tables.Column(verbose_name="ITN", orderable=False)
    created_at = tables.DateColumn(verbose_name="Creation date")
    last_purchase_at = tables.DateColumn(verbose_name="Last purchase date")
    group = tables.Column(verbose_name="Client type", accessor="group__name", orderable=False)
    status = StatusColumn(verbose_name="Status", orderable=False)
    sms_price = tables.Column(
        verbose_name="SMS price", orderable=False, attrs={"td": {"class": "text-end"}}
    )
    channel = tables.Column(orderable=False, accessor="get_channel_display")
    external_tenant_name = tables.Column(verbose_name="External tenant name", orderable=False)

    always_columns = ("name",)
    default_columns = (
        "login",
        "company",
        "contact",
        "itn",
        "created_at",
        "last_purchase_at",
        "group",
        "status",
        "sms_price",
        "channel",
    )
    related_for_columns = {"group": ("group",)}
    default_order = "-last_purchase_at"  # most recent purchase on top, never-bought last

    class Meta(BaseTable.Meta):
        model = Client
        fields = ()
        empty_text = "No clients match."
        row_attrs = {
            "data-href": lambda record: reverse(
                "clients:client_detail", kwargs={"number": record.number}
            ),
            "class": "row-link",
            "data-client": lambda record: record.number,
        }

    def render_sms_price(self, value):
        return f"{value:.4f}"

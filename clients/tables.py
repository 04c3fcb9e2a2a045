import django_tables2 as tables

from tenancy.tables import BaseTable

from .models import Client


class ClientTable(BaseTable):
    name = tables.Column(verbose_name="Client name", linkify=True)
    login = tables.Column()
    created_at = tables.DateTimeColumn(verbose_name="Creation date")

    always_columns = ("name",)
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = Client
        fields = ()

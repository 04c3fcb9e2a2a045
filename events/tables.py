import django_tables2 as tables
from django.db.models import F

from core.tables import MomentColumn
from tenancy.tables import BaseTable

from .types import EVENT_TYPES


class EventTable(BaseTable):
    """The audit log, newest first. Sorted by time only, with the id as the tie-break: the
    index (tenant, created_at DESC, id DESC) serves every page."""

    created_at = MomentColumn(verbose_name="When")
    type = tables.Column(verbose_name="Event", orderable=False)
    description = tables.Column(verbose_name="What happened", orderable=False)
    who = tables.Column(verbose_name="Who", accessor="who", orderable=False, empty_values=())
    object_type = tables.Column(verbose_name="Object", orderable=False)
    object_id = tables.Column(verbose_name="Object ID", orderable=False)
    client_id = tables.Column(verbose_name="Client", orderable=False)

    always_columns = ("created_at", "type", "description", "who")
    default_columns = ("created_at", "type", "description", "who", "object_type")
    related_for_columns = {"who": ("actor",)}
    default_order = "-created_at"
    # Past a few pages the count is an estimate: the audit log may hold hundreds of millions.
    exact_count_limit = 1000

    class Meta(BaseTable.Meta):
        model = None
        fields = ()
        row_attrs = {"data-event": lambda record: record.type}

    def render_type(self, value):
        return EVENT_TYPES.get(value, value)

    def _orderer(self, bound):
        def order(queryset, is_descending):
            if is_descending:
                return queryset.order_by(F("created_at").desc(), F("pk").desc()), True
            return queryset.order_by(F("created_at").asc(), F("pk").asc()), True

        return order

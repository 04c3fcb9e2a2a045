import django_tables2 as tables
from django.db.models import F
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_tables2.rows import BoundRow

from core.api import SortKey
from core.pagination import keyset_paginate
from core.tables import MomentColumn
from tenancy.tables import BaseTable

from .types import EVENT_TYPES, OBJECT_TYPE_LABELS


class EventTable(BaseTable):
    """The audit log, newest first. Sorted by time only, with the id as the tie-break: the
    index (tenant, created_at DESC, id DESC) serves every page. Keyset pages (newer, older),
    never a count: at a hundred million events a count would cost more than the page."""

    created_at = MomentColumn(verbose_name=_("When"))
    type = tables.Column(verbose_name=_("Event"), orderable=False)
    description = tables.Column(verbose_name=_("What happened"), orderable=False)
    who = tables.Column(verbose_name=_("Who"), accessor="who", orderable=False, empty_values=())
    object_type = tables.Column(verbose_name=_("Object"), orderable=False)
    object_id = tables.Column(verbose_name=_("Object ID"), orderable=False)
    client_id = tables.Column(verbose_name=_("Client"), orderable=False)

    always_columns = ("created_at", "type", "description", "who")
    default_columns = ("created_at", "type", "description", "who", "object_type")
    related_for_columns = {"who": ("actor",)}
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = None
        fields = ()
        row_attrs = {"data-event": lambda record: record.type}
        template_name = "tables/keyset_table.html"

    def apply_pagination(self, request) -> None:
        sort = self.valid_order(request.GET.get("sort")) or self.default_order
        descending = sort.startswith("-")
        keys = [SortKey("created_at", descending), SortKey("id", descending)]
        self.page = keyset_paginate(
            self.data.data,
            keys=keys,
            sort=sort,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
            limit=self.page_size(request),
        )
        self.page.object_list = [BoundRow(record, table=self) for record in self.page.object_list]

    def export_total(self) -> None:
        """Not counted, as the page never counts: the export's progress shows rows written."""
        return None

    def render_type(self, value):
        return self._type_labels.get(value, value)

    def render_object_type(self, value):
        return self._object_type_labels.get(value, value)

    @cached_property
    def _type_labels(self) -> dict[str, str]:
        """The types' labels in the reader's language, translated once a page, not a row."""
        return {code: str(label) for code, label in EVENT_TYPES.items()}

    @cached_property
    def _object_type_labels(self) -> dict[str, str]:
        return {code: str(label) for code, label in OBJECT_TYPE_LABELS.items()}

    def _orderer(self, bound):
        def order(queryset, is_descending):
            if is_descending:
                return queryset.order_by(F("created_at").desc(), F("pk").desc()), True
            return queryset.order_by(F("created_at").asc(), F("pk").asc()), True

        return order

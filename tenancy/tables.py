"""BaseTable: what every list in the portal shares, and the operators table."""

import html
from collections.abc import Callable
from dataclasses import dataclass

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models import F
from django.utils.functional import cached_property
from django.utils.html import strip_tags
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_tables2.rows import BoundRow

from core.pagination import CappedCountPaginator
from core.tables import (
    MomentColumn,
    RenderedRow,
    export_kind_for_field,
    export_text_of,
    parse_positive_int,
    rendered_rows,
)

from .modules import uses_any
from .preferences import get_preference
from .selectors import saved_view_applied

PER_PAGE_CHOICES = (10, 20, 50, 100)
DEFAULT_PER_PAGE = 10
TABLE_REGISTRY: dict[str, type["BaseTable"]] = {}


class BaseTable(tables.Table):
    """A table that knows its optional, default and always-shown columns, the related rows its
    visible columns need, and applies the operator's saved columns, sort and page size.

    Sorting always ends on the primary key, so that pages are stable; nulls sort last in both
    directions (a client that never bought is never on top).
    """

    default_columns: tuple[str, ...] = ()  # shown when the operator chose nothing; () = all
    always_columns: tuple[str, ...] = ()  # cannot be hidden
    related_for_columns: dict[str, tuple[str, ...]] = {}  # column -> select_related paths
    default_order: str = "-pk"
    exact_count_limit = CappedCountPaginator.exact_limit

    class Meta:
        attrs = {"class": "table table-hover table-sm align-middle mb-0"}
        template_name = "tables/table.html"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        TABLE_REGISTRY[cls.__name__] = cls

    @property
    def class_name(self) -> str:
        return type(self).__name__

    # -- columns -------------------------------------------------------------------------
    # Column -> the modules it belongs to (tenancy.modules); a column not named here shows for
    # every tenant. A tenant's table has only the columns of its modules: the chooser offers
    # no other, a saved choice or `?sort=` naming another is ignored.
    column_modules: dict[str, frozenset[str]] = {}

    @classmethod
    def prepare_columns(cls) -> None:
        """Called before the table's columns are read: a table to which other apps add
        columns (the client list) adds them here."""

    @classmethod
    def preference_key(cls, name: str) -> str:
        return f"tables.{cls.__name__}.{name}"

    @classmethod
    def offered_to(cls, name: str, tenant) -> bool:
        return tenant is None or uses_any(tenant, cls.column_modules.get(name, ()))

    @classmethod
    def hidden_by_modules(cls, tenant) -> tuple[str, ...]:
        cls.prepare_columns()
        return tuple(name for name in cls.base_columns if not cls.offered_to(name, tenant))

    @classmethod
    def choosable_columns(cls, tenant=None) -> list[tuple[str, str]]:
        """(name, label) of the columns the chooser offers (to `tenant`; None: every column),
        labelled as their headers read (a model field's verbose name starts lower-case; the
        header capitalises it)."""
        cls.prepare_columns()
        return [
            (name, capfirst(str(column.verbose_name or name).strip() or name))
            for name, column in cls.base_columns.items()
            if name not in cls.always_columns and column.visible and cls.offered_to(name, tenant)
        ]

    @classmethod
    def clean_column_choice(cls, names, tenant=None) -> list[str]:
        allowed = {name for name, _ in cls.choosable_columns(tenant)}
        return [name for name in names if name in allowed]

    @classmethod
    def default_columns_for(cls, tenant) -> tuple[str, ...]:
        """The columns shown when the operator chose nothing; () = all it is offered."""
        return cls.default_columns

    @classmethod
    def column_sequence(cls, tenant) -> tuple[str, ...] | None:
        """The order of the columns for `tenant` (django-tables2's `sequence`); None: as
        declared."""
        return None

    @classmethod
    def visible_columns(cls, membership) -> list[str]:
        tenant = getattr(membership, "tenant", None)
        chosen = get_preference(membership, cls.preference_key("columns"))
        if isinstance(chosen, list):
            chosen = cls.clean_column_choice(chosen, tenant)
        else:
            offered = [n for n, _ in cls.choosable_columns(tenant)]
            defaults = cls.default_columns_for(tenant)
            chosen = [n for n in defaults if n in offered] if defaults else offered
        return [*cls.always_columns, *(n for n in chosen if n not in cls.always_columns)]

    @classmethod
    def columns_for_request(cls, request) -> list[str]:
        """The columns this request shows: those an export job was asked for
        (`request.table_columns`), a saved view's (`?view=`), else the operator's choice."""
        chosen = getattr(request, "table_columns", None)
        if chosen is None:
            view = saved_view_applied(request)
            chosen = view.columns if view is not None and view.columns else None
        if chosen is None:
            return cls.visible_columns(request.membership)
        tenant = getattr(request, "tenant", None)
        chosen = cls.clean_column_choice(chosen, tenant)
        return [*cls.always_columns, *(n for n in chosen if n not in cls.always_columns)]

    @classmethod
    def related_paths(cls, visible: list[str]) -> list[str]:
        paths: list[str] = []
        for name in visible:
            paths.extend(p for p in cls.related_for_columns.get(name, ()) if p not in paths)
        return paths

    @classmethod
    def for_request(cls, queryset, request, **kwargs) -> "BaseTable":
        """Build the table over `queryset` for this operator and request."""
        tenant = getattr(request, "tenant", None)
        visible = cls.columns_for_request(request)
        paths = cls.related_paths(visible)
        if paths:
            queryset = queryset.select_related(*paths)
        kwargs.setdefault("exclude", cls.hidden_by_modules(tenant))
        sequence = cls.column_sequence(tenant)
        if sequence:
            kwargs.setdefault("sequence", sequence)
        # Not `request=request`: django-tables2 would then run RequestConfig, whose default
        # paginator counts every row (a full COUNT(*)) before apply_pagination replaces it.
        table = cls(queryset, **kwargs)
        table.request = request
        table.chooser_columns = cls.choosable_columns(tenant)
        table.apply_visible(visible)
        table.apply_order(request.GET.get("sort"))
        table.apply_pagination(request)
        return table

    def apply_visible(self, visible: list[str]) -> None:
        self.visible_names = visible
        excluded = set(self.exclude or ())
        for name, column in type(self).base_columns.items():
            if name not in visible and name not in excluded and column.visible:
                self.columns.hide(name)

    # -- sorting -------------------------------------------------------------------------
    def apply_order(self, requested: str | None) -> None:
        for bound in self.columns.iterall():  # hidden columns too: ?sort= may name one
            if bound.orderable:
                # BoundColumn.order is what django-tables2 calls (bound at construction).
                bound.order = self._orderer(bound)
        self.order_by = self.valid_order(requested) or self.default_order

    def valid_order(self, requested: str | None) -> str | None:
        if not requested:
            return None
        name = requested.removeprefix("-")
        if name in self.columns.names() and self.columns[name].orderable:
            return requested
        return None

    def _nullable(self, path: str) -> bool:
        """Whether the sort key `path` may be NULL. NULLS LAST is only asked for such keys:
        PostgreSQL does not see that a NOT NULL column's `DESC NULLS LAST` equals `DESC`, and
        would sort the whole table instead of reading its index backwards."""
        model = self._meta.model
        try:
            *joins, last = path.split("__")
            for name in joins:
                field = model._meta.get_field(name)
                if field.null:
                    return True
                model = field.related_model
            return model._meta.get_field(last).null
        except (AttributeError, FieldDoesNotExist):
            return True

    def _orderer(self, bound):
        accessors = [str(a).removeprefix("-").replace(".", "__") for a in bound.order_by]

        def order(queryset, is_descending):
            keys = []
            for a in accessors:
                nulls = {"nulls_last": True} if self._nullable(a) else {}
                keys.append(F(a).desc(**nulls) if is_descending else F(a).asc(**nulls))
            tiebreak = F("pk").desc() if is_descending else F("pk").asc()
            return queryset.order_by(*keys, tiebreak), True

        return order

    # -- pagination ----------------------------------------------------------------------
    @staticmethod
    def per_page_for(params, membership) -> int:
        """The page size of a list: `?per_page=` when it is one of the choices, else the
        operator's saved one, else the default."""
        per_page = parse_positive_int(params.get("per_page"), 0)
        if per_page not in PER_PAGE_CHOICES:
            saved = get_preference(membership, "pagination.per_page")
            per_page = saved if saved in PER_PAGE_CHOICES else DEFAULT_PER_PAGE
        return per_page

    @cached_property
    def rendered_rows(self) -> list[RenderedRow]:
        """The page's rows with their cells rendered once per column (core.tables), for a
        table whose template writes them (tables/keyset_table.html)."""
        return rendered_rows(self)

    def page_size(self, request) -> int:
        """This request's page size, kept for the page-size menu."""
        self.per_page_choices = PER_PAGE_CHOICES
        self.current_per_page = self.per_page_for(request.GET, request.membership)
        return self.current_per_page

    def apply_pagination(self, request) -> None:
        per_page = self.page_size(request)
        paginator = CappedCountPaginator(
            self.rows, per_page, count_queryset=self.data.data, exact_limit=self.exact_count_limit
        )
        page = min(parse_positive_int(request.GET.get("page"), 1), paginator.num_pages)
        self.paginator = paginator
        self.page = paginator.page(page)

    # -- export ----------------------------------------------------------------------------
    def data_columns(self) -> list[tuple]:
        """The visible columns that hold data, in the page's order, each with its header's
        text: a column whose header shows no text (the row's buttons, the tick boxes of a
        selection) is the page's machinery, neither exported nor kept in a saved view."""
        shown = []
        for bound in self.columns:
            header = html.unescape(strip_tags(str(bound.header or ""))).strip()
            if header:
                shown.append((bound, header))
        return shown

    def export_fields(self) -> list["ExportField"]:
        """The data columns as an export writes them (core.tables says how a column exports)."""
        return [self._export_field(bound, header) for bound, header in self.data_columns()]

    def export_rows(self, chunk_size: int = 2000):
        """Every row of the filtered, sorted list (not only the page), streamed; only the
        columns the export reads are loaded when every column says what it reads (a row of the
        client list has forty columns, and loading them all cost twice the export's own work)."""
        fields = self.export_fields()
        readers = [field.value for field in fields]
        queryset = self.data.data
        if all(field.reads is not None for field in fields):
            reads = sorted({path for field in fields for path in field.reads})
            joins = sorted({path.rsplit("__", 1)[0] for path in reads if "__" in path})
            # Only the related rows the reads go through: select_related of a row whose
            # fields are left out is refused.
            queryset = queryset.select_related(None).select_related(*joins).only(*reads)
        for record in queryset.iterator(chunk_size=chunk_size):
            yield [read(record) for read in readers]

    def export_total(self) -> int | None:
        """The number of rows the export writes, for its progress bar: the page's count."""
        return self.paginator.count

    def _export_field(self, bound, header: str) -> "ExportField":
        column, name = bound.column, bound.name
        path = str(column.accessor).replace(".", "__") if column.accessor else name
        model_field, is_column = self._field_at(path)
        kind = getattr(column, "export_kind", None) or export_kind_for_field(model_field)
        reads = getattr(column, "export_reads", None)
        custom = getattr(column, "export_value", None)
        if custom is not None:
            return ExportField(name, header, kind, custom, reads)
        if hasattr(self, f"render_{name}") or isinstance(column, tables.TemplateColumn):
            return ExportField(name, header, "text", self._shown_text(name), reads)
        if model_field is not None and not model_field.is_relation:
            reads = (path,) if is_column else ()  # an annotation comes with the row
        reader = record_reader(path, export_text_of(model_field))
        return ExportField(name, header, kind, reader, reads)

    def _field_at(self, path: str):
        """The model field a column's path reads and True, or the annotation's output field and
        False; (None, False) for a property."""
        queryset = self.data.data
        model = queryset.model
        *joins, last = path.split("__")
        try:
            for part in joins:
                model = model._meta.get_field(part).related_model
            field = model._meta.get_field(last)
            return field, field.concrete and not field.many_to_many
        except (AttributeError, FieldDoesNotExist):
            pass
        annotation = queryset.query.annotations.get(path) if not joins else None
        try:
            return (annotation.output_field if annotation is not None else None), False
        except (AttributeError, FieldDoesNotExist):
            return None, False

    def _shown_text(self, name: str) -> Callable:
        """The text of the cell as the table renders it (django-tables2's own value)."""

        def shown(record):
            value = BoundRow(record, table=self).get_cell_value(name)
            return None if value is None else html.unescape(strip_tags(str(value))).strip()

        return shown


@dataclass(frozen=True)
class ExportField:
    """A column of an export: its header, the writer's kind, its value from a row, and the
    model fields that value reads (None: unknown, the whole row is loaded)."""

    name: str
    header: str
    kind: str
    value: Callable
    reads: tuple[str, ...] | None = None


def record_reader(path: str, to_text: Callable | None) -> Callable:
    """Read `path` (`account__balance`) from a record; None where a related row is missing."""
    parts = path.split("__")

    def read(record):
        value = record
        for part in parts:
            try:
                value = getattr(value, part)
            except ObjectDoesNotExist:
                return None
            if value is None:
                return None
        if to_text is not None:
            return to_text(value)
        return str(value) if isinstance(value, models.Model) else value

    return read


class MembershipTable(BaseTable):
    username = tables.Column(
        accessor="user__username",
        verbose_name=_("Username"),
        linkify=("tenancy:operator_edit", {"pk": tables.A("pk")}),
    )
    name = tables.Column(
        accessor="user__first_name",
        verbose_name=pgettext_lazy("person", "Name"),
        order_by=("user__first_name", "user__last_name"),
    )
    email = tables.Column(accessor="user__email", verbose_name=_("E-mail"))
    role = tables.Column(verbose_name=_("Role"))
    is_active = tables.BooleanColumn(verbose_name=pgettext_lazy("operator access", "Active"))
    has_two_factor = tables.BooleanColumn(verbose_name=_("Two-factor"), orderable=False)
    last_login = MomentColumn(accessor="user__last_login", verbose_name=_("Last login"))
    created_at = MomentColumn(verbose_name=_("Added"))

    always_columns = ("username",)
    related_for_columns = {"username": ("user",)}
    default_order = "username"

    class Meta(BaseTable.Meta):
        model = None
        fields = ()

    def render_name(self, record):
        return record.user.get_full_name() or "—"


class ApiTokenTable(BaseTable):
    name = tables.Column(verbose_name=_("Name"))
    prefix = tables.Column(verbose_name=_("Token"), orderable=False)
    scope = tables.Column(verbose_name=_("Role or scope"))
    created_at = MomentColumn(verbose_name=_("Created"))
    expires_at = MomentColumn(verbose_name=_("Expires"), default=_("never"))
    last_used_at = MomentColumn(
        verbose_name=_("Last used"), default=_("never"), attrs={"td": {"data-testid": "last-used"}}
    )
    state = tables.TemplateColumn(
        template_name="tenancy/api_token_state.html", verbose_name=_("State"), orderable=False
    )

    always_columns = ("name", "state")
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = None
        fields = ()

    def render_prefix(self, value):
        return f"{value}…"

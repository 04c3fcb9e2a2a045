"""Columns every table shares: dates and times in the tenant's formats, and the column kind
whose cell a list that renders its own rows asks for once (RecordColumn). `tenancy.tables`
builds the one base table on them; it stays there because what a table offers depends on the
tenant's modules and the operator's saved choices."""

import html
import inspect
import operator
from collections.abc import Callable
from dataclasses import dataclass

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist
from django.utils import formats, timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django_tables2.utils import AttributeDict

from .formatting import format_date, format_datetime, format_time
from .stored_text import StoredTextField


def parse_positive_int(value, default: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


class DayColumn(tables.Column):
    """A date (a datetime's day in the tenant's zone) in the tenant's format. Formatted
    directly: django-tables2's DateColumn compiles a template for every cell."""

    export_kind = "date"

    def render(self, value):
        return format_date(value)


class MomentColumn(tables.Column):
    """A date and time of day in the tenant's formats and time zone."""

    export_kind = "datetime"

    def render(self, value):
        return format_datetime(value)


class ClockColumn(tables.Column):
    """A time of day in the tenant's clock and time zone (a list of today's events)."""

    def render(self, value):
        return format_time(value)


class RecordColumn(tables.Column):
    """A column whose cell is `cell(record, name)`: what a list that renders its own rows (the
    client list) calls once per cell, without django-tables2's per-cell look-up of the
    arguments its render method takes (about 1.5 ms a row of ten columns). django-tables2's
    own rendering reaches the same method through `render`, so both show the same cell. The
    cell is text (escaped where it is shown) or safe HTML (format_html)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_values", ())  # `cell` says what an empty value shows
        super().__init__(*args, **kwargs)

    def cell(self, record, name: str):
        raise NotImplementedError

    def render(self, record, bound_column):
        return self.cell(record, bound_column.name)


class FieldColumn(RecordColumn):
    """An attribute of the record (the accessor, else the column's name), — when empty;
    `format(value)` turns the others into text (e.g. core.formatting.format_date)."""

    EMPTY = "—"

    def __init__(self, *args, format=str, **kwargs):  # noqa: A002 - the natural name
        self.format = format
        super().__init__(*args, **kwargs)

    def cell(self, record, name: str):
        value = getattr(record, str(self.accessor) if self.accessor else name)
        return self.EMPTY if value is None or value == "" else self.format(value)

    @property
    def export_kind(self) -> str | None:
        """A value shown as a day is exported as a date (its value may be a moment)."""
        return "date" if self.format is format_date else None


# -- exports: a column's cell as a spreadsheet value --------------------------------------------
# A column may say how it exports (every table's columns export without it):
#   export_kind = "money"            the writer's kind (exports.xlsx: text, integer, number, ...)
#   def export_value(self, record)   the value, when the accessor's value is not it
# Without them a column exports its accessor's value, read from the record: a choice as its
# label, a yes/no as Yes or No, a stored sentence in the reader's language, a related row as
# its text; a column whose table renders it (`render_<name>`) or that is a template exports
# the text it shows.
BOOLEAN_TEXT = {True: _("Yes"), False: _("No")}


def export_kind_for_field(field) -> str:
    """The writer's kind of a model field's (or an annotation's output field's) value."""
    if field is None or getattr(field, "choices", None) or field.is_relation:
        return "text"
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        return "datetime"
    if internal == "DateField":
        return "date"
    if internal.endswith(("IntegerField", "AutoField")):
        return "integer"
    if internal == "DecimalField":
        return "decimal4" if (field.decimal_places or 0) > 2 else "number"
    if internal == "FloatField":
        return "number"
    return "text"


def export_text_of(field):
    """How a field's value becomes what the page shows, when it is not the value itself: a
    choice's label, Yes/No; None when the value is written as it is."""
    if field is None:
        return None
    if isinstance(field, StoredTextField):  # a stored sentence, in the reader's language
        return str
    choices = getattr(field, "flatchoices", None)
    if choices:
        labels = {value: str(label) for value, label in choices}
        return lambda value: labels.get(value, value)
    if field.get_internal_type() == "BooleanField":
        return lambda value: str(BOOLEAN_TEXT[value]) if value in BOOLEAN_TEXT else value
    return None


# -- a page's rows rendered once per column, not once per cell ---------------------------------
@dataclass(frozen=True)
class RenderedRow:
    """A row of a page as its table's template writes it: the <tr>'s attributes and the
    row's <td>s, every value escaped."""

    record: object
    attrs: str
    cells: str


def rendered_rows(table) -> list[RenderedRow]:
    """The page's rows as django-tables2's row template renders them (the same cells,
    attributes and localisation), with what is the same for every row worked out once per
    column: django-tables2 looks up each render method's arguments, the column's attributes
    and a template node per cell, which cost more than a page's query (about 3 ms a row of
    the audit log). A column this cannot render alike keeps django-tables2's own cell."""
    columns = [_cell_renderer(table, bound) for bound in table.columns]
    row_attrs = _row_attrs_renderer(table)
    rows = []
    for bound_row in table.paginated_rows:
        cells = "".join(
            f"<td {td}>{_escaped(value)}</td>"
            for td, value in (cell(bound_row) for cell in columns)
        )
        rows.append(
            RenderedRow(
                record=bound_row.record,
                attrs=row_attrs(bound_row),
                cells=mark_safe(cells),  # noqa: S308 - every value is escaped above
            )
        )
    return rows


def _escaped(value) -> str:
    """What the template's `{{ cell }}` writes: safe HTML as it is, anything else escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _row_attrs_renderer(table) -> Callable:
    """A row's <tr> attributes as django-tables2's BoundRow.attrs writes them (the table's
    row_attrs, computed from the record, and the even/odd class), with each callable's
    arguments looked up once per page."""
    items = []
    for key, value in table.row_attrs.items():
        if isinstance(value, dict):
            return lambda row: row.attrs.as_html()  # nested attributes: django-tables2's
        if not callable(value):
            items.append((key, value, None))
            continue
        wanted = set(inspect.signature(value).parameters)
        items.append((key, value, wanted if "kwargs" not in wanted else {"table", "record"}))

    def attrs(row):
        given = {"table": table, "record": row.record}
        values = {
            key: value if wanted is None else value(**{k: given[k] for k in wanted & set(given)})
            for key, value, wanted in items
        }
        parity = row.get_even_odd_css_class()
        values["class"] = f"{values['class']} {parity}" if values.get("class") else parity
        return mark_safe(  # noqa: S308 - every key and value escaped
            " ".join(
                f'{_escaped(key)}="{_escaped(value)}"'
                for key, value in values.items()
                if key not in AttributeDict.blacklist and value is not None
            )
        )

    return attrs


def _cell_renderer(table, bound) -> Callable:
    """How one column's cell of a row is rendered, (its <td>'s attributes, its text), decided
    once for the page."""
    column, name = bound.column, bound.name
    shown = _as_template_shows(column.localize)
    direct = None if isinstance(column, RecordColumn) else _direct_value(table, bound)
    if isinstance(column, RecordColumn):

        def value_of(row):
            return column.cell(row.record, name)
    elif direct is None:

        def value_of(row):
            return shown(row.get_cell(name))
    else:
        read, render, default = direct
        empty = column.empty_values

        def value_of(row):
            value = read(row.record)
            if callable(value):  # django-tables2 calls it: let it
                return shown(row.get_cell(name))
            return shown(default if value in empty else render(value=value))

    if _attrs_vary_by_row(bound):

        def cell(row):
            value = value_of(row)
            bound.current_value, bound.current_record = value, row.record
            return bound.attrs["td"].as_html(), value

        return cell
    td = bound.attrs["td"].as_html()
    return lambda row: (td, value_of(row))


def _attrs_vary_by_row(bound) -> bool:
    """Whether the column's <td> attributes are computed from each row (callables)."""
    attrs = {**bound._table.attrs, **bound.column.attrs}
    cell_attrs = {**attrs.get("cell", {}), **attrs.get("td", {})}
    return any(callable(value) for value in cell_attrs.values())


def _direct_value(table, bound):
    """(read the value, render it, the empty cell) for a column whose cell is its render of a
    plain attribute; None for any other (links, choices, nested accessors, render methods
    that want more than the value), which django-tables2 renders itself."""
    accessor = str(bound.accessor)
    if bound.link or "." in accessor or "__" in accessor:
        return None
    model = getattr(table.data, "model", None)
    if model is None:  # rows that are not model instances: django-tables2 reads them
        return None
    try:
        if getattr(model._meta.get_field(accessor), "choices", None):
            return None  # django-tables2 shows get_<field>_display()
    except FieldDoesNotExist:
        pass
    parameters = set(inspect.signature(bound.render).parameters)
    if not parameters <= {"value", "args", "kwargs"} or "value" not in parameters:
        return None
    return operator.attrgetter(accessor), bound.render, bound.default


def _as_template_shows(localize: bool | None) -> Callable:
    """A cell's value as `{{ cell }}` shows it (with `|localize` or `|unlocalize` where the
    column asks): in the active time zone and formats."""
    use_l10n = True if localize is None else localize

    def shown(value):
        if isinstance(value, str):  # text and safe HTML: as they are
            return value
        return formats.localize(timezone.template_localtime(value), use_l10n=use_l10n)

    return shown

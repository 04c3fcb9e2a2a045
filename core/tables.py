"""Columns every table shares: dates and times in the tenant's formats, and the column kind
whose cell a list that renders its own rows asks for once (RecordColumn). `tenancy.tables`
builds the one base table on them; it stays there because what a table offers depends on the
tenant's modules and the operator's saved choices."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

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

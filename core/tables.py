"""Columns every table shares: dates and times in the tenant's formats, and the column kind
whose cell a list that renders its own rows asks for once (RecordColumn). `tenancy.tables`
builds the one base table on them; it stays there because what a table offers depends on the
tenant's modules and the operator's saved choices."""

import django_tables2 as tables

from .formatting import format_date, format_datetime, format_time


def parse_positive_int(value, default: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return default
    return number if number > 0 else default


class DayColumn(tables.Column):
    """A date (a datetime's day in the tenant's zone) in the tenant's format. Formatted
    directly: django-tables2's DateColumn compiles a template for every cell."""

    def render(self, value):
        return format_date(value)


class MomentColumn(tables.Column):
    """A date and time of day in the tenant's formats and time zone."""

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

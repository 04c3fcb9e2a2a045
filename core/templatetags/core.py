"""Dates, times and numbers in templates, in the tenant's formats and the operator's language
(a builtin library: no `{% load %}`).

`{{ value|day }}` a date (a datetime's day in the tenant's zone), `{{ value|moment }}` a date
and time, `{{ value|clock }}` a time of day. Templates use these instead of Django's `date` and
`time` filters, so that a tenant's pages all show one format (tests/core/test_date_conventions.py).
`{{ value|money }}` an amount without currency (`{{ price|money:4 }}` a unit price),
`{{ value|amount }}` with the tenant's currency, `{{ n|count }}` a whole number: instead of
`floatformat` and `intcomma`, whose rounding and separators differ from the ledger's.
"""

from django import template

from core.dates import DateInput
from core.formatting import (
    format_amount,
    format_count,
    format_date,
    format_datetime,
    format_time,
)
from core.formatting import money as format_money

register = template.Library()


@register.filter
def day(value) -> str:
    return format_date(value)


@register.filter
def moment(value) -> str:
    return format_datetime(value)


@register.filter
def clock(value) -> str:
    return format_time(value)


@register.filter
def money(value, places: int = 2) -> str:
    return "" if value is None or value == "" else format_money(value, int(places))


@register.filter
def amount(value, places: int = 2) -> str:
    return "" if value is None or value == "" else format_amount(value, int(places))


@register.filter
def count(value) -> str:
    return "" if value is None or value == "" else format_count(value)


@register.simple_tag
def date_input(name, value=None, **attrs):
    """The shared date input where no form field renders one (the client list's ranges, whose
    from and to sit in one filter); `aria_label=` becomes aria-label."""
    attrs = {key.replace("_", "-"): text for key, text in attrs.items()}
    attrs["class"] = " ".join(filter(None, ["form-control form-control-sm", attrs.get("class")]))
    return DateInput().render(name, value, attrs=attrs)

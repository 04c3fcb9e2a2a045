"""The one date field (and date-time field) of every form: read and shown in the tenant's format.

A native `<input type=date>` shows the browser's locale format, which the server cannot choose,
so date inputs are text inputs in the tenant's format (placeholder: the format's name), with a
calendar button beside them (static/js/clientdesk.js opens the browser's picker and writes the
day back in the tenant's format, and refreshes a list only once a date is complete).

Read: the tenant's format, ISO YYYY-MM-DD (links and bookmarks), or the eight digits alone in
the tenant's order (15102026 for DD.MM.YYYY). A date-time is the tenant's date, a space and the
time in the tenant's clock (24-hour always read too). Anything else is refused with a message
naming the format. Bounds (1900 to 8999) come from core.numbers' BoundedInputMixin, which
recognises these as DateField / DateTimeField.
"""

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import from_current_timezone
from django.utils import timezone
from django.utils.translation import gettext as _

from core.formatting import (
    active_date_format,
    date_format_name,
    date_pattern,
    datetime_format_name,
    format_date,
    format_datetime,
    time_pattern,
)

EXAMPLE = datetime(2026, 1, 31, 17, 30)
ISO_DATE = "%Y-%m-%d"
CLOCKS_READ = ("%H:%M", "%H:%M:%S", "%I:%M %p", "%I:%M%p")


def date_message() -> str:
    """E.g. "Enter a date as DD.MM.YYYY, e.g. 31.01.2026."."""
    return _("Enter a date as %(format)s, e.g. %(example)s.") % {
        "format": date_format_name(),
        "example": format_date(EXAMPLE.date()),
    }


def datetime_message() -> str:
    return _("Enter a date and time as %(format)s, e.g. %(example)s.") % {
        "format": datetime_format_name(),
        "example": format_datetime(EXAMPLE),
    }


def _digits_only(text: str) -> date | None:
    """Eight digits in the order of the tenant's format (15102026 for DD.MM.YYYY)."""
    if len(text) != 8 or not text.isdigit():
        return None
    parts, position = {}, 0
    for letter in active_date_format():
        if letter.isalpha():
            width = 4 if letter == "Y" else 2
            parts[letter] = int(text[position : position + width])
            position += width
    try:
        return date(parts["Y"], parts["m"], parts["d"])
    except ValueError:
        return None


def _strptime(text: str, pattern: str) -> datetime | None:
    try:
        return datetime.strptime(text, pattern)
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    """The day the text names in the tenant's format, ISO, or eight digits; None otherwise."""
    text = text.strip()
    for pattern in dict.fromkeys((date_pattern(), ISO_DATE)):
        parsed = _strptime(text, pattern)
        if parsed is not None:
            return parsed.date()
    return _digits_only(text)


def parse_datetime(text: str) -> datetime | None:
    """A naive date-time: the tenant's date (or ISO), then the time in its clock or 24-hour;
    ISO's "T" separator too (what datetime-local inputs sent)."""
    text = " ".join(text.strip().replace("T", " ", 1).split())
    day_text, _, clock_text = text.partition(" ")
    day = parse_date(day_text)
    if day is None or not clock_text:
        return None
    for pattern in dict.fromkeys((time_pattern(), *CLOCKS_READ)):
        parsed = _strptime(clock_text.upper(), pattern)
        if parsed is not None:
            return datetime.combine(day, parsed.time())
    return None


class DateInput(forms.TextInput):
    """A text input in the tenant's date format with a calendar button on its right."""

    template_name = "core/widgets/date_input.html"
    format_name = staticmethod(date_format_name)

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "numeric", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        """A date in the tenant's format; text (as submitted) unchanged."""
        if isinstance(value, date):
            return format_date(value)
        return super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs.setdefault("placeholder", self.format_name())
        widget_attrs["data-date-input"] = active_date_format()
        context["widget"]["small"] = "form-control-sm" in widget_attrs.get("class", "")
        return context


class DateTimeInput(DateInput):
    """The same, for a date and a time of day (the calendar fills the date, keeping the time)."""

    format_name = staticmethod(datetime_format_name)

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "text", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, datetime):
            return format_datetime(value)
        return super().format_value(value)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-with-time"] = ""
        return context


class DateField(forms.DateField):
    """Every date input of the portal (see the module's docstring)."""

    widget = DateInput

    def __init__(self, **kwargs):
        kwargs.pop("input_formats", None)  # the tenant's, read when the value is
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        parsed = parse_date(str(value))
        if parsed is None:
            raise ValidationError(date_message(), code="invalid")
        return parsed


class DateTimeField(forms.DateTimeField):
    """Every date-and-time input: the tenant's date and clock, in the tenant's time zone."""

    widget = DateTimeInput

    def __init__(self, **kwargs):
        kwargs.pop("input_formats", None)
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value if timezone.is_aware(value) else timezone.make_aware(value)
        if isinstance(value, date):
            return timezone.make_aware(datetime.combine(value, datetime.min.time()))
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ValidationError(datetime_message(), code="invalid")
        return from_current_timezone(parsed)

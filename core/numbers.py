"""Numbers and dates typed into forms and query parameters, read without ever raising.

Python reads "1e1000000", "NaN", "-inf" and 5,000 digits as numbers, or fails on them with
errors a form does not expect (decimal.Overflow from arithmetic on a huge exponent, ValueError
past 4,300 digits); PostgreSQL then refuses what does not fit its column. Every numeric input
goes through `parse_integer` or `parse_decimal`, which look at the text's length and the number's
magnitude before any arithmetic, and refuse what is out of range with a ValidationError, shown
next to its field. `BoundedIntegerField` and `BoundedDecimalField` are the form fields built on
them; `BoundedInputMixin` bounds the number and date fields a ModelForm derives from its model.
"""

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .formatting import format_count, money

# PostgreSQL's integer (a 32-bit column) and bigint.
INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
MAX_NUMBER_LENGTH = 40  # longer input is no number that fits any column
# Dates the portal takes: wide enough for any real date, narrow enough that a shift between time
# zones never leaves the range PostgreSQL and Python share (years 1 to 9999).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(8999, 12, 31)


def _bound_text(value: Decimal) -> str:
    """A range's end in a message, with the decimals it has (1,000 and 999,999.99)."""
    return money(value, places=decimal_places(Decimal(value)))


def _compact(text) -> str:
    return str(text).strip().replace(" ", "").replace("\u00a0", "")


def parse_integer(text, *, min_value: int = 0, max_value: int = INTEGER_MAX) -> int:
    """The whole number in `text`, refused unless min_value <= number <= max_value."""
    out_of_range = ValidationError(
        _("Enter a whole number from %(min)s to %(max)s.")
        % {"min": format_count(min_value), "max": format_count(max_value)},
        code="out_of_range",
    )
    value = _compact(text)
    if len(value) > MAX_NUMBER_LENGTH:
        raise out_of_range
    try:
        number = int(value)
    except ValueError:
        raise ValidationError(_("Enter a whole number."), code="invalid") from None
    if not min_value <= number <= max_value:
        raise out_of_range
    return number


def query_integer(value, *, default=None, min_value: int = 1, max_value: int = INTEGER_MAX):
    """A whole number from a query parameter (a link's ?client=12), or `default` when the
    parameter is absent, not a number or out of range: a link is a hint, never an error."""
    try:
        return parse_integer(value or "", min_value=min_value, max_value=max_value)
    except ValidationError:
        return default


def decimal_places(number: Decimal) -> int:
    """How many decimals `number` really has (1.50 has 1), without arithmetic that could
    overflow on a huge exponent."""
    if number.is_zero():
        return 0
    _, digits, exponent = number.as_tuple()
    if exponent >= 0:
        return 0
    trailing_zeros = 0
    for digit in reversed(digits):
        if digit != 0:
            break
        trailing_zeros += 1
    return max(0, -exponent - trailing_zeros)


def parse_decimal(
    text,
    *,
    max_value: Decimal,
    places: int,
    min_value: Decimal | None = None,
    example: str = "",
) -> Decimal:
    """The decimal number in `text` ("12,50" as typed in much of Europe too), refused unless
    finite, with at most `places` decimals and within [min_value, max_value] (min_value
    defaults to -max_value). Returned with exactly `places` decimals."""
    low = -max_value if min_value is None else min_value
    example = example or money(Decimal(150), places)
    out_of_range = ValidationError(
        _("Enter a number from %(min)s to %(max)s.")
        % {"min": _bound_text(low), "max": _bound_text(max_value)},
        code="out_of_range",
    )
    value = _compact(text)
    if len(value) > MAX_NUMBER_LENGTH:
        raise out_of_range
    if "," in value and "." not in value and value.count(",") == 1:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValidationError(
            _("Enter a number, e.g. %(example)s.") % {"example": example}, code="invalid"
        ) from None
    if not number.is_finite():
        raise ValidationError(
            _("Enter a number, e.g. %(example)s.") % {"example": example}, code="invalid"
        )
    if not low <= number <= max_value:  # an exact comparison, whatever the exponent
        raise out_of_range
    if decimal_places(number) > places:
        raise ValidationError(
            ngettext(
                "Use at most %(places)s decimal place.",
                "Use at most %(places)s decimal places.",
                places,
            )
            % {"places": places},
            code="max_decimal_places",
        )
    return number.quantize(Decimal(1).scaleb(-places))


def check_date_range(value):
    """Refuses a date or date-time outside EARLIEST_DATE..LATEST_DATE."""
    if value is None:
        return value
    day = value.date() if isinstance(value, datetime) else value
    if day < EARLIEST_DATE:
        raise ValidationError(
            _("Enter a date from %(year)s on.") % {"year": EARLIEST_DATE.year}, code="too_early"
        )
    if day > LATEST_DATE:
        raise ValidationError(
            _("Enter a date before %(year)s.") % {"year": LATEST_DATE.year + 1}, code="too_late"
        )
    return value


class BoundedIntegerField(forms.IntegerField):
    """A whole number within [min_value, max_value] (by default a 32-bit column's 0 to
    2,147,483,647). Text too long to be such a number is refused before Python reads it; the
    range is checked by IntegerField's own validators, with their messages; a form may word the
    refusal of too long a text as error_messages["out_of_range"]."""

    def __init__(self, *, min_value: int = 0, max_value: int = INTEGER_MAX, **kwargs):
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)

    def to_python(self, value):
        if value not in self.empty_values and len(_compact(value)) > MAX_NUMBER_LENGTH:
            message = self.error_messages.get(
                "out_of_range",
                _("Enter a whole number from %(min)s to %(max)s.")
                % {"min": format_count(self.min_value), "max": format_count(self.max_value)},
            )
            raise ValidationError(message, code="out_of_range")
        return super().to_python(value)


class BoundedDecimalField(forms.DecimalField):
    """A decimal number that fits its column (max_digits, decimal_places), read with
    `parse_decimal`."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        places = self.decimal_places or 0
        limit = (
            Decimal(10) ** (self.max_digits - places) - Decimal(1).scaleb(-places)
            if self.max_digits
            else Decimal(BIGINT_MAX)
        )
        low = self.min_value if self.min_value is not None else -limit
        high = min(limit, self.max_value) if self.max_value is not None else limit
        return parse_decimal(value, max_value=high, min_value=low, places=places)


def _bounded(field: forms.Field) -> forms.Field:
    """The same field, bounded: numbers by their column, dates by the portal's range."""
    whole = not isinstance(field, (forms.DecimalField, forms.FloatField, BoundedIntegerField))
    if isinstance(field, forms.IntegerField) and whole:  # Decimal- and FloatField subclass it
        bounded = BoundedIntegerField(
            min_value=field.min_value if field.min_value is not None else -INTEGER_MAX - 1,
            # A declared (or model-derived) bound is kept up to a bigint column's; without one,
            # a 32-bit column's.
            max_value=min(field.max_value, BIGINT_MAX)
            if field.max_value is not None
            else INTEGER_MAX,
            required=field.required,
            label=field.label,
            initial=field.initial,
            help_text=field.help_text,
            widget=field.widget,
            error_messages=field.error_messages,
            localize=field.localize,
            disabled=field.disabled,
        )
        range_checks = (validators.MinValueValidator, validators.MaxValueValidator)
        bounded.validators += [v for v in field.validators if not isinstance(v, range_checks)]
        return bounded
    if isinstance(field, forms.DecimalField) and not isinstance(field, BoundedDecimalField):
        field.__class__ = BoundedDecimalField
        return field
    dated = isinstance(field, (forms.DateField, forms.DateTimeField))
    if dated and check_date_range not in field.validators:
        field.validators.append(check_date_range)
    return field


class BoundedInputMixin:
    """A form whose number and date fields refuse what their column cannot hold, with a message
    next to the field, however they were declared (a ModelForm derives them from the model)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in list(self.fields.items()):
            self.fields[name] = _bounded(field)

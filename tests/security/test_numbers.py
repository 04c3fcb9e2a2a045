"""core.numbers: any text typed as a number is read or refused with a ValidationError, never
another exception, and what is read fits its column."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core.numbers import (
    INTEGER_MAX,
    BoundedDecimalField,
    BoundedIntegerField,
    check_date_range,
    decimal_places,
    parse_decimal,
    parse_integer,
    query_integer,
)

NASTY = [
    "1e1000000",
    "-1e1000000",
    "1e-1000000",
    "0e-1000000",
    "NaN",
    "sNaN",
    "inf",
    "-inf",
    "9" * 5000,
    str(10**30),
    "-1",
    "",
    " ",
    "1,5",
    "1.2.3",
    "\x00",
    "0x10",
    "١٢٣",
]
number_like = st.one_of(
    st.sampled_from(NASTY),
    st.from_regex(r"\A[-+]?\d{0,50}([.,]\d{0,50})?([eE][-+]?\d{1,8})?\Z"),
    st.text(max_size=60),
)
LIMIT = Decimal("99999999.99")


@given(number_like)
def test_parse_decimal_reads_or_refuses(text):
    try:
        number = parse_decimal(text, max_value=LIMIT, places=2)
    except ValidationError:
        return
    assert -LIMIT <= number <= LIMIT
    assert number.as_tuple().exponent == -2


@given(number_like)
def test_parse_integer_reads_or_refuses(text):
    try:
        number = parse_integer(text)
    except ValidationError:
        return
    assert 0 <= number <= INTEGER_MAX


@given(number_like)
def test_query_integer_never_raises(text):
    number = query_integer(text, default=None)
    assert number is None or 1 <= number <= INTEGER_MAX


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1e1000000", "out_of_range"),
        ("-1e1000000", "out_of_range"),
        ("1e-1000000", "max_decimal_places"),
        ("NaN", "invalid"),
        ("-inf", "invalid"),
        ("100000000", "out_of_range"),
        ("1.005", "max_decimal_places"),
    ],
)
def test_parse_decimal_says_why(text, code):
    with pytest.raises(ValidationError) as caught:
        parse_decimal(text, max_value=LIMIT, places=2)
    assert caught.value.code == code


def test_decimal_places_ignores_trailing_zeros():
    assert decimal_places(Decimal("1.50")) == 1
    assert decimal_places(Decimal("0E-1000000")) == 0
    assert decimal_places(Decimal("1E+1000000")) == 0
    assert parse_decimal("12,50", max_value=LIMIT, places=2) == Decimal("12.50")


def test_bounded_fields_refuse_out_of_range_with_a_message():
    integer = BoundedIntegerField(max_value=3650)
    assert integer.clean("12") == 12
    for bad in ("1e1000000", "9" * 5000, "3651", "-1"):
        with pytest.raises(ValidationError):
            integer.clean(bad)
    decimal = BoundedDecimalField(max_digits=10, decimal_places=4)
    assert decimal.clean("0.0125") == Decimal("0.0125")
    for bad in ("1e1000000", "NaN", "1000000", "0.00001"):
        with pytest.raises(ValidationError):
            decimal.clean(bad)


def test_dates_outside_the_range_are_refused():
    from datetime import date, datetime

    assert check_date_range(date(2026, 1, 31)) == date(2026, 1, 31)
    for bad in (date(1, 1, 1), datetime(9999, 12, 31, 23, 0)):
        with pytest.raises(ValidationError):
            check_date_range(bad)


def project_forms():
    """Every form class the portal's apps define (ModelForms included)."""
    from django import forms
    from django.apps import apps

    project = {a.name for a in apps.get_app_configs() if not a.name.startswith("django")}
    found, pending = [], [forms.BaseForm]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in project:
            found.append(cls)
    return found


def test_every_form_with_a_number_or_date_field_is_bounded():
    from django import forms

    from core.numbers import BoundedInputMixin

    bounded_kinds = (forms.IntegerField, forms.DateField, forms.DateTimeField)
    unbounded = [
        f"{cls.__module__}.{cls.__name__}"
        for cls in project_forms()
        if any(isinstance(f, bounded_kinds) for f in cls.base_fields.values())
        and not issubclass(cls, BoundedInputMixin)
    ]
    assert project_forms(), "no form found"
    assert unbounded == []

"""Dates and times in the tenant's formats: shown (functions, filters, columns) and read (the
shared date field), for each format a tenant may choose."""

from datetime import date, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.utils import timezone

from core.dates import DateField, DateInput, DateTimeField, DateTimeInput, parse_date
from core.formatting import (
    DATE_FORMATS,
    format_date,
    format_datetime,
    format_time,
    formats_of,
    tenant_formatting,
)

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def formats(date_format="Y-m-d", time_format="H:i", time_zone="Europe/Berlin"):
    """A tenant as the formatting reads it."""
    return SimpleNamespace(
        date_format=date_format, time_format=time_format, zone=ZoneInfo(time_zone)
    )


DAY = date(2026, 10, 5)
SHOWN = {"Y-m-d": "2026-10-05", "d.m.Y": "05.10.2026", "d/m/Y": "05/10/2026", "m/d/Y": "10/05/2026"}


def test_every_date_format_is_covered():
    assert set(SHOWN) == set(DATE_FORMATS)


@pytest.mark.parametrize(("key", "shown"), SHOWN.items())
def test_a_date_shows_in_the_tenants_format(key, shown):
    with formats_of(formats(key)):
        assert format_date(DAY) == shown
        assert format_date(None) == ""


@pytest.mark.parametrize(
    ("key", "shown"), [("H:i", "17:05"), ("h:i A", "05:05 PM")], ids=["24h", "12h"]
)
def test_a_time_shows_in_the_tenants_clock(key, shown):
    with formats_of(formats(time_format=key)):
        assert format_time(time(17, 5)) == shown
        assert format_time(time(0, 5)) == ("00:05" if key == "H:i" else "12:05 AM")


def test_a_datetime_shows_in_the_tenants_zone_and_formats():
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 1 January in Berlin
    with tenant_formatting(formats("d.m.Y", "H:i")):
        assert format_datetime(moment) == "01.01.2027 00:30"
        assert format_date(moment) == "01.01.2027"
        assert format_time(moment) == "00:30"
    with tenant_formatting(formats("m/d/Y", "h:i A", "America/New_York")):
        assert format_datetime(moment) == "12/31/2026 06:30 PM"


def test_outside_any_tenant_the_defaults_apply():
    with timezone.override(UTC):
        assert format_datetime(datetime(2026, 1, 31, 17, 30, tzinfo=UTC)) == "2026-01-31 17:30"


def test_an_unknown_format_key_falls_back_to_the_default():
    with formats_of(formats("l, F jS", "g a")):
        assert format_datetime(datetime(2026, 1, 31, 17, 30)) == "2026-01-31 17:30"


def test_template_filters_use_the_same_formats():
    template = Template("{{ when|day }} · {{ when|moment }} · {{ when|clock }} · {{ none|day }}")
    moment = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with tenant_formatting(formats("d/m/Y", "h:i A")):
        shown = template.render(Context({"when": moment, "none": None}))
    assert shown == "01/03/2026 · 01/03/2026 09:00 AM · 09:00 AM · "


@pytest.mark.parametrize(
    ("key", "typed"),
    [
        ("d.m.Y", "15.10.2026"),
        ("d.m.Y", "15102026"),
        ("d/m/Y", "15/10/2026"),
        ("m/d/Y", "10/15/2026"),
        ("m/d/Y", "10152026"),  # digits only, as the operators type them
        ("Y-m-d", "2026-10-15"),
        ("Y-m-d", "20261015"),
        ("m/d/Y", "2026-10-15"),  # ISO is read in every format (links, bookmarks)
        ("d.m.Y", " 15.10.2026 "),
    ],
)
def test_the_date_field_reads_the_tenants_format(key, typed):
    with formats_of(formats(key)):
        assert DateField().clean(typed) == date(2026, 10, 15)


@pytest.mark.parametrize(
    ("key", "typed", "message"),
    [
        ("d.m.Y", "10/15/2026", "Enter a date as DD.MM.YYYY, e.g. 31.01.2026."),
        ("m/d/Y", "15.10.2026", "Enter a date as MM/DD/YYYY, e.g. 01/31/2026."),
        ("m/d/Y", "15102026", "Enter a date as MM/DD/YYYY, e.g. 01/31/2026."),
        ("d/m/Y", "31/02/2026", "Enter a date as DD/MM/YYYY, e.g. 31/01/2026."),
        ("Y-m-d", "yesterday", "Enter a date as YYYY-MM-DD, e.g. 2026-01-31."),
        ("Y-m-d", "1015202", "Enter a date as YYYY-MM-DD, e.g. 2026-01-31."),
    ],
)
def test_the_date_field_refuses_another_format_naming_the_tenants(key, typed, message):
    with formats_of(formats(key)), pytest.raises(ValidationError) as refused:
        DateField().clean(typed)
    assert refused.value.messages == [message]


def test_the_date_input_shows_the_tenants_format_with_a_calendar_button():
    with formats_of(formats("d.m.Y")):
        html = DateInput().render("start", DAY, attrs={"id": "id_start"})
        typed = DateInput().render("start", "15.1", attrs={"id": "id_start"})
    assert 'type="text"' in html and 'value="05.10.2026"' in html
    assert 'placeholder="DD.MM.YYYY"' in html and 'inputmode="numeric"' in html
    assert 'data-date-input="d.m.Y"' in html and "data-date-picker" in html
    assert 'value="15.1"' in typed  # what was typed comes back as it was


def test_the_datetime_field_reads_and_shows_the_tenants_date_and_clock():
    with tenant_formatting(formats("m/d/Y", "h:i A")):
        read = DateTimeField().clean("10/15/2026 05:30 PM")
        assert read == datetime(2026, 10, 15, 17, 30, tzinfo=BERLIN)
        assert DateTimeField().clean("10/15/2026 17:30") == read  # 24-hour is read too
        assert DateTimeField().clean("2026-10-15T17:30") == read
        html = DateTimeInput().render("last_login_at", read)
        with pytest.raises(ValidationError) as refused:
            DateTimeField().clean("15.10.2026 17:30")
    assert 'value="10/15/2026 05:30 PM"' in html
    assert refused.value.messages == [
        "Enter a date and time as MM/DD/YYYY hh:mm AM, e.g. 01/31/2026 05:30 PM."
    ]


def test_parse_date_never_raises():
    with formats_of(formats("d.m.Y")):
        for text in ("", "99.99.9999", "00000000", "31.13.2026", "1.1", "\u0661\u0665.10.2026"):
            assert parse_date(text) is None or isinstance(parse_date(text), date)

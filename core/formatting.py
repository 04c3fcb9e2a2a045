"""Numbers as pages show them, rounded the way the ledger and the spreadsheets round, in the
separators of the operator's language.

Python formats a Decimal half-to-even (0.665 -> "0.66") while the ledger quantizes half-up and a
spreadsheet's 0.00 format rounds half away from zero (0.67): a page, its .xlsx and the charge
would disagree by a cent. Every number a page, a message or an e-mail shows goes through this
module instead: `money` (an amount without its currency, or a unit price with `places=4`),
`format_amount` (with the tenant's currency: "1,234.56 EUR" in English, "1 234,56 ₽" in
Russian) and `format_count` (a whole number, grouped); templates: the `money`, `amount` and
`count` filters. The separators are Django's formats of the active language.

Dates and times likewise: every page, list cell and e-mail shows them through `format_date`,
`format_time` and `format_datetime` (templates: the `day` and `moment` filters), in the formats
of the tenant being served, which a native date input cannot follow (it shows the browser's).
"""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.formats import get_format
from django.utils.translation import get_language, pgettext, pgettext_lazy

CENT = Decimal("0.01")

# Where the active language writes a currency's sign instead of its code, and on which side.
CURRENCY_SIGNS = {
    "ru": {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "UAH": "₴", "BYN": "Br", "GBP": "£"},
}
NBSP = "\N{NO-BREAK SPACE}"


def _separators() -> tuple[str, str]:
    """The active language's decimal and thousands separators (cached by Django per language)."""
    return get_format("DECIMAL_SEPARATOR"), get_format("THOUSAND_SEPARATOR")


def _grouped(text: str, thousands: str) -> str:
    """Digits "1234567" as "1,234,567" with the given separator."""
    head = len(text) % 3 or 3
    groups = [text[:head]] + [text[i : i + 3] for i in range(head, len(text), 3)]
    return thousands.join(groups)


def money(value, places: int = 2) -> str:
    """E.g. 1,234.57 (English) or 1 234,57 (Russian): grouped thousands, `places` decimals,
    half away from zero."""
    quantum = CENT if places == 2 else Decimal(1).scaleb(-places)
    text = f"{Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP):f}"
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, fraction = text.partition(".")
    decimal, thousands = _separators()
    return f"{sign}{_grouped(whole, thousands)}{decimal + fraction if fraction else ''}"


def format_count(value) -> str:
    """A whole number grouped by the active language: 1,234,567 or 1 234 567."""
    return money(value, places=0)


def format_amount(value, places: int = 2, currency: str | None = None) -> str:
    """An amount with its currency (by default the active tenant's): "1,234.56 EUR", or in
    Russian "1 234,56 ₽" where the language writes a sign for it."""
    code = currency or _active_currency.get()
    number = money(value, places)
    sign = CURRENCY_SIGNS.get((get_language() or "en").split("-")[0], {}).get(code)
    space = NBSP if sign else " "  # a sign never wraps away from its number
    return f"{number}{space}{sign or code}" if code else number


# The date and time formats a tenant may choose: Django's format letters (for templates and
# date_format), the strftime pattern (for parsing input and fast cells), and the name an
# operator reads in placeholders and messages.
DATE_FORMATS = {
    "Y-m-d": {"strftime": "%Y-%m-%d", "name": pgettext_lazy("date format", "YYYY-MM-DD")},
    "d.m.Y": {"strftime": "%d.%m.%Y", "name": pgettext_lazy("date format", "DD.MM.YYYY")},
    "d/m/Y": {"strftime": "%d/%m/%Y", "name": pgettext_lazy("date format", "DD/MM/YYYY")},
    "m/d/Y": {"strftime": "%m/%d/%Y", "name": pgettext_lazy("date format", "MM/DD/YYYY")},
}
TIME_FORMATS = {
    "H:i": {"strftime": "%H:%M", "name": pgettext_lazy("time format", "24-hour (17:30)")},
    "h:i A": {"strftime": "%I:%M %p", "name": pgettext_lazy("time format", "12-hour (05:30 PM)")},
}
DATE_FORMAT_CHOICES = [(key, spec["name"]) for key, spec in DATE_FORMATS.items()]
TIME_FORMAT_CHOICES = [(key, spec["name"]) for key, spec in TIME_FORMATS.items()]
DEFAULT_DATE_FORMAT = "Y-m-d"
DEFAULT_TIME_FORMAT = "H:i"


# The formats of the tenant being served (date key, time key): set for a request by
# TenantFormatsMiddleware and for a task by `tenant_formatting`; the portal's defaults otherwise
# (the admin, a task that formats for no tenant).
_active_formats: ContextVar[tuple[str, str]] = ContextVar(
    "active_formats", default=(DEFAULT_DATE_FORMAT, DEFAULT_TIME_FORMAT)
)
_active_currency: ContextVar[str] = ContextVar("active_currency", default="")


def tenant_format_keys(tenant) -> tuple[str, str]:
    """The tenant's date and time format keys; a key no longer offered falls back to the default."""
    date_key = getattr(tenant, "date_format", None)
    time_key = getattr(tenant, "time_format", None)
    return (
        date_key if date_key in DATE_FORMATS else DEFAULT_DATE_FORMAT,
        time_key if time_key in TIME_FORMATS else DEFAULT_TIME_FORMAT,
    )


@contextmanager
def formats_of(tenant):
    """Within: every date and time is shown and read in the tenant's formats, and amounts are
    in its currency."""
    token = _active_formats.set(tenant_format_keys(tenant))
    currency_token = _active_currency.set(getattr(tenant, "currency", "") or "")
    try:
        yield
    finally:
        _active_currency.reset(currency_token)
        _active_formats.reset(token)


@contextmanager
def tenant_formatting(tenant):
    """For work outside a request (a task, an e-mail): the tenant's formats and time zone."""
    with formats_of(tenant), timezone.override(tenant.zone):
        yield


def active_date_format() -> str:
    """The active date format's key, e.g. "d.m.Y" (the widget hands it to the page's script)."""
    return _active_formats.get()[0]


def date_pattern() -> str:
    """The active date format as strftime reads and writes it, e.g. "%d.%m.%Y"."""
    return DATE_FORMATS[_active_formats.get()[0]]["strftime"]


def time_pattern() -> str:
    return TIME_FORMATS[_active_formats.get()[1]]["strftime"]


def date_format_name() -> str:
    """What an operator reads in a placeholder or a message, e.g. "DD.MM.YYYY"."""
    return str(DATE_FORMATS[_active_formats.get()[0]]["name"])


def datetime_format_name() -> str:
    """E.g. "DD.MM.YYYY HH:MM" or "MM/DD/YYYY hh:mm AM"."""
    if _active_formats.get()[1] == "H:i":
        clock = pgettext("time format", "HH:MM")
    else:
        clock = pgettext("time format", "hh:mm AM")
    return f"{date_format_name()} {clock}"


def _local(value: datetime) -> datetime:
    """An aware datetime in the current time zone (the tenant's); a naive one as it is."""
    return timezone.localtime(value) if timezone.is_aware(value) else value


def format_date_for(tenant, value) -> str:
    """`format_date` in `tenant`'s format, where no request or task set it (e.g. demo data)."""
    with formats_of(tenant):
        return format_date(value)


def format_date(value) -> str:
    """A date in the active format ("" for none); a datetime as its day in the tenant's zone.
    strftime rather than Django's formatter: list cells call this on every row."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value).date()
    return value.strftime(date_pattern())


def format_time(value) -> str:
    """A time of day in the active format, a datetime's in the tenant's zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    return value.strftime(time_pattern())


def format_datetime(value) -> str:
    """Date and time in the active formats, in the tenant's zone: "15.10.2026 17:30"."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return format_date(value)
    local = _local(value)
    return f"{local.strftime(date_pattern())} {local.strftime(time_pattern())}"


class TenantFormatsMiddleware:
    """After TenantMiddleware: the request's pages show and read dates in its tenant's formats
    (the response is rendered inside, before it comes back here)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None:
            return self.get_response(request)
        with formats_of(tenant):
            return self.get_response(request)

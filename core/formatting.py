"""Numbers as pages show them, rounded the way the ledger and the spreadsheets round.

Python formats a Decimal half-to-even (0.665 -> "0.66") while the ledger quantizes half-up and a
spreadsheet's 0.00 format rounds half away from zero (0.67): a page, its .xlsx and the charge
would disagree by a cent. Every amount a page shows goes through `money` instead.
"""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value, places: int = 2) -> str:
    """E.g. 1,234.57: grouped thousands, `places` decimals, half away from zero."""
    quantum = CENT if places == 2 else Decimal(1).scaleb(-places)
    return f"{Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP):,}"


# The date and time formats a tenant may choose: Django's format letters (for templates and
# date_format), the strftime pattern (for parsing input and fast cells), and the name an
# operator reads in placeholders and messages.
DATE_FORMATS = {
    "Y-m-d": {"strftime": "%Y-%m-%d", "name": "YYYY-MM-DD"},
    "d.m.Y": {"strftime": "%d.%m.%Y", "name": "DD.MM.YYYY"},
    "d/m/Y": {"strftime": "%d/%m/%Y", "name": "DD/MM/YYYY"},
    "m/d/Y": {"strftime": "%m/%d/%Y", "name": "MM/DD/YYYY"},
}
TIME_FORMATS = {
    "H:i": {"strftime": "%H:%M", "name": "24-hour (17:30)"},
    "h:i A": {"strftime": "%I:%M %p", "name": "12-hour (05:30 PM)"},
}
DATE_FORMAT_CHOICES = [(key, spec["name"]) for key, spec in DATE_FORMATS.items()]
TIME_FORMAT_CHOICES = [(key, spec["name"]) for key, spec in TIME_FORMATS.items()]
DEFAULT_DATE_FORMAT = "Y-m-d"
DEFAULT_TIME_FORMAT = "H:i"

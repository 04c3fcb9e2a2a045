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

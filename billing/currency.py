"""A currency as a sentence names it: its sign where the active language writes one (Russian:
"₽", "€"), else its code ("EUR"), the same as `core.formatting.format_amount` writes it next to
an amount, so that "Prices in €" and "30,00 €" agree."""

from django.utils.translation import get_language

from core.formatting import CURRENCY_SIGNS


def currency_shown(code: str) -> str:
    signs = CURRENCY_SIGNS.get((get_language() or "en").split("-")[0], {})
    return signs.get(code, code)

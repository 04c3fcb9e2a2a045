"""Recipient numbers: E.164 form, country, and the operator when the gateway did not say.

The country comes from the number (phonenumbers' region for it). The operator comes, in order
of trust, from the gateway's delivery report or route (``gateway``), else from phonenumbers'
carrier prefix data (``prefix``), which knows the operator a number range was allocated to and
so misses ported numbers, else it is unknown. Every message records which source its operator
came from, so that a report can say how sure it is.
"""

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from phonenumbers import carrier
from phonenumbers.geocoder import _region_display_name

UNKNOWN_COUNTRY = ""
RESOLVED_KEPT = 20_000  # numbers whose resolution a process keeps (about 8 MB)


class OperatorSource:
    GATEWAY = "gateway"
    PREFIX = "prefix"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ResolvedNumber:
    e164: str
    country: str  # ISO 3166-1 alpha-2, "" when the number belongs to no single country
    operator: str
    operator_source: str


class InvalidRecipient(ValueError):
    pass


def normalise_recipient(raw: str) -> phonenumbers.PhoneNumber:
    """Parse a recipient given in international form (with or without the leading +)."""
    value = (raw or "").strip().replace(" ", "")
    if not value:
        raise InvalidRecipient(_("The recipient is empty."))
    if not value.startswith("+"):
        value = "+" + value.removeprefix("00")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRecipient(_("“%(number)s” is not a phone number.") % {"number": raw}) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidRecipient(_("“%(number)s” is not a possible phone number.") % {"number": raw})
    return number


def resolve_recipient(raw: str, *, gateway_operator: str = "") -> ResolvedNumber:
    e164, country, prefix_operator = _resolve_number(raw or "")
    gateway_operator = (gateway_operator or "").strip()
    if gateway_operator:
        return ResolvedNumber(e164, country, gateway_operator[:64], OperatorSource.GATEWAY)
    if prefix_operator:
        return ResolvedNumber(e164, country, prefix_operator, OperatorSource.PREFIX)
    return ResolvedNumber(e164, country, "", OperatorSource.UNKNOWN)


@lru_cache(maxsize=RESOLVED_KEPT)
def _resolve_number(raw: str) -> tuple[str, str, str]:
    """E.164, country and the prefix data's operator of a number: phonenumbers' parse and
    look-ups cost about 20 µs a number, and traffic sends to the same numbers again and again
    (its metadata does not change while the process runs). A refused number raises each time,
    so that its message is said in the language of the moment."""
    number = normalise_recipient(raw)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    country = phonenumbers.region_code_for_number(number) or UNKNOWN_COUNTRY
    if country == "001":  # non-geographic numbers (satellite, international services)
        country = UNKNOWN_COUNTRY
    return e164, country, carrier.name_for_number(number, "en")[:64]


def country_name(code: str) -> str:
    """ "Latvia" for "LV" (in the active language: "Латвия" in Russian, from phonenumbers'
    own territory names); "Unknown country" for ""."""
    return _country_name(code, get_language() or "en")


@lru_cache(maxsize=1024)
def _country_name(code: str, language: str) -> str:
    if not code:
        return str(_("Unknown country"))
    return _region_display_name(code, language[:2]) or _region_display_name(code, "en") or code

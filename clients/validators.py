"""Validation of client identifiers: the ITN (INN) and the login phone number.

The messages are lazy, as Django's own: a refused import row stores them as their message and
reads them in its reader's language (core.stored_text.validation_message)."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INN_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN_WEIGHTS_12_A = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN_WEIGHTS_12_B = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def is_valid_russian_inn(value: str) -> bool:
    """INN: 10 digits for organisations, 12 for individuals, with check digits."""
    if not value.isdigit():
        return False
    if len(value) == 10:
        return _inn_check_digit(value, INN_WEIGHTS_10) == int(value[9])
    if len(value) == 12:
        return _inn_check_digit(value, INN_WEIGHTS_12_A) == int(value[10]) and (
            _inn_check_digit(value, INN_WEIGHTS_12_B) == int(value[11])
        )
    return False


def validate_itn(value: str, country: str = "") -> None:
    """Check digits where the country's scheme is known (RU), else digits only (5 to 20)."""
    if not value:
        return
    if country == "RU":
        if not is_valid_russian_inn(value):
            raise ValidationError(
                _(
                    "Enter a valid INN: 10 digits (organisation) or 12 (individual) with correct "
                    "check digits."
                )
            )
        return
    if not value.isdigit() or not 5 <= len(value) <= 20:
        raise ValidationError(_("Enter the registration number as 5 to 20 digits."))


def normalize_phone(value: str, region: str | None = None) -> str:
    """Return the number in E.164, or raise ValidationError."""
    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(
            _("Enter a phone number in international format, e.g. +4930123456.")
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("This phone number is not valid for its country."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

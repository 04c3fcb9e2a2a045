"""Sender ID names as operators accept them: an alphanumeric sender of 1 to 11 characters
(Latin letters and digits, with at least one letter; a space, dot, dash, underscore or & inside
is accepted, as most operators do), or a numeric sender (a phone number or short code) of up to
15 digits."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ALPHANUMERIC_MAX = 11
NUMERIC_MAX = 15
ALPHANUMERIC_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 ._&-]*[A-Za-z0-9])?$")


def validate_sender_name(value: str) -> None:
    value = value or ""
    if value != value.strip():
        raise ValidationError(_("Remove the spaces at the start and the end."), code="spaces")
    if not value:
        raise ValidationError(_("Enter the sender ID."), code="required")
    digits = value.removeprefix("+")
    if digits.isdigit() and digits.isascii():
        if len(digits) > NUMERIC_MAX:
            raise ValidationError(
                _("A numeric sender ID has at most %(max)s digits.") % {"max": NUMERIC_MAX},
                code="numeric_length",
            )
        return
    if len(value) > ALPHANUMERIC_MAX:
        raise ValidationError(
            _("An alphanumeric sender ID has at most %(max)s characters.")
            % {"max": ALPHANUMERIC_MAX},
            code="alphanumeric_length",
        )
    if not ALPHANUMERIC_RE.match(value):
        raise ValidationError(
            _("Use Latin letters and digits (a space, . - _ or & inside is allowed)."),
            code="characters",
        )

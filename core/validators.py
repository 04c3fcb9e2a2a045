"""Validators every app shares."""

import re

from django import forms
from django.core.validators import EmailValidator
from django.db import models

# Non-ASCII characters a person types in an address: from U+00A0 on, without the invisible and
# direction-changing ones (U+200B-U+200F, U+2028-U+202E, U+2060-U+206F, U+FEFF) that would make
# two addresses look alike.
_LETTERS = "\u00a1-\u200a\u2010-\u2027\u2030-\u205f\u2070-\ufefe\uff00-\U0010ffff"


class InternationalEmailValidator(EmailValidator):
    """An e-mail address as RFC 6531 allows it: the local part may hold any non-ASCII letter
    (müller@beispiel.de, иван@почта.рф), as well as the ASCII characters RFC 5322 allows;
    domains are checked by Django as before (IDNA)."""

    user_regex = re.compile(
        rf"(^[-!#$%&'*+/=?^_`{{}}|~0-9A-Z{_LETTERS}]+"
        rf"(\.[-!#$%&'*+/=?^_`{{}}|~0-9A-Z{_LETTERS}]+)*\Z"
        r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z)',
        re.IGNORECASE,
    )


validate_international_email = InternationalEmailValidator()


class InternationalEmailFormField(forms.EmailField):
    default_validators = [validate_international_email]


class InternationalEmailField(models.EmailField):
    """An EmailField that accepts internationalised addresses (see the validator)."""

    default_validators = [validate_international_email]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": InternationalEmailFormField, **kwargs})


def full_clean_changed(instance: models.Model, changed, *, exclude=(), **kwargs) -> None:
    """The model's validation of the fields that changed only: a stored value today's rules
    refuse stays as it was, never refused on a save that did not touch it (core.forms)."""
    unchanged = [f.name for f in instance._meta.concrete_fields if f.name not in changed]
    instance.full_clean(exclude=[*unchanged, *exclude], **kwargs)

"""Forms of the Finance tab. Each POST form carries an idempotency token: a hidden UUID made
when the form is rendered, so that a double click or a resubmitted form posts once."""

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dates import DateField
from core.formatting import money
from core.forms import UnchangedValuesKeptMixin
from core.numbers import EARLIEST_DATE, LATEST_DATE, BoundedInputMixin, parse_decimal

from .models import MONEY_LIMIT, MONEY_PLACES
from .selectors import Period, default_period

MONEY_MESSAGES = {
    "invalid": gettext_lazy("Enter a number, e.g. 150.00."),
    "out_of_range": lazy(
        lambda: _("The amount must be at most %(limit)s.") % {"limit": money(MONEY_LIMIT)}, str
    )(),
    "max_decimal_places": gettext_lazy("Use at most 2 decimal places (cents)."),
}


class MoneyField(forms.CharField):
    """An amount of money with clear messages: empty, not a number, more than 2 decimals,
    too large, and (with `positive`) zero or negative."""

    def __init__(self, *, positive: bool = True, allow_zero: bool = False, **kwargs):
        self.positive = positive
        self.allow_zero = allow_zero
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        )
        kwargs.setdefault("error_messages", {"required": gettext_lazy("Enter an amount.")})
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            amount = parse_decimal(value, max_value=MONEY_LIMIT, places=MONEY_PLACES)
        except ValidationError as error:
            raise ValidationError(
                MONEY_MESSAGES.get(error.code, error.message), error.code
            ) from None
        if self.positive and amount < 0:
            raise forms.ValidationError(_("The amount cannot be negative."), code="negative")
        if amount == 0 and not self.allow_zero:
            raise forms.ValidationError(_("The amount must be greater than zero."), code="zero")
        return amount


class IdempotentForm(BoundedInputMixin, forms.Form):
    token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", uuid.uuid4())
        expired = _("The form has expired; reload the page and try again.")
        self.fields["token"].error_messages["required"] = expired
        self.fields["token"].error_messages["invalid"] = expired

    def clean(self):
        cleaned = super().clean()
        if "token" in self.errors:
            # A hidden field: show its error at the top of the form.
            self.add_error(None, self.errors.pop("token"))
        return cleaned

    def idempotency_key(self, action: str) -> str:
        return f"{action}:{self.cleaned_data['token']}"


class TopUpForm(IdempotentForm):
    prefix = "topup"
    amount = MoneyField(label=gettext_lazy("Amount"))
    comment = forms.CharField(label=gettext_lazy("Comment"), required=False, max_length=500)


class CreditLimitForm(UnchangedValuesKeptMixin, IdempotentForm):
    """Filled from the account's credit limit (on POST too): a limit left as shown is the stored
    one, so that saving it unchanged records nothing."""

    prefix = "credit"
    stored_fields = ("amount",)
    amount = MoneyField(label=gettext_lazy("Amount"), allow_zero=True)
    notify = forms.BooleanField(label=gettext_lazy("Notify customer"), required=False)


EARLIEST = EARLIEST_DATE
LATEST = LATEST_DATE


class PeriodForm(BoundedInputMixin, forms.Form):
    """Start and end date of the transactions shown (both included), typed in the tenant's
    date format (or picked in the calendar beside the field); ISO is read too (links)."""

    start = DateField(label=gettext_lazy("Start date"), required=False)
    end = DateField(label=gettext_lazy("End date"), required=False)

    def __init__(self, data=None, *, tenant, **kwargs):
        self.default = default_period(tenant)
        if data is not None and not (data.get("start") or data.get("end")):
            data = None  # no period asked for: the default, unbound
        super().__init__(
            data, initial={"start": self.default.start, "end": self.default.end}, **kwargs
        )

    def clean(self):
        cleaned = super().clean()
        start = cleaned.get("start") or self.default.start
        end = cleaned.get("end") or self.default.end
        if "start" in cleaned and "end" in cleaned and end < start:
            self.add_error("end", _("The end date must not be before the start date."))
        if cleaned.get("start") and start < EARLIEST:
            self.add_error("start", _("Enter a date after 1900."))
        if cleaned.get("end") and end > LATEST:
            self.add_error("end", _("Enter a date before 9000."))
        return cleaned

    @property
    def period(self) -> Period:
        """The period asked for when valid, else the default (a bad period changes nothing)."""
        if not self.is_bound or not self.is_valid():
            return self.default
        return Period(
            start=self.cleaned_data.get("start") or self.default.start,
            end=self.cleaned_data.get("end") or self.default.end,
        )

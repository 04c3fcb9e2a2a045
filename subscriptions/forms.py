"""Forms of packages and subscriptions. Choices are the tenant's own (never another tenant's
package), and every bad value is reported next to its field.

Purchase forms carry an idempotency token (billing.forms.IdempotentForm): a double click or a
resubmitted form buys once."""

import re
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.currency import currency_shown
from billing.forms import IdempotentForm, MoneyField
from clients.forms import ClientForm
from clients.models import Client, ClientStatus
from core.dates import DateField
from core.formatting import format_date, money
from core.forms import UnchangedValuesKeptMixin
from core.numbers import BIGINT_MAX, BoundedInputMixin
from tenancy.models import Tenant

from .models import Package, tenant_today
from .selectors import packages_on_sale
from .services import MAX_START_AHEAD_DAYS

# One MikroTik rate-limit figure: 512k, 20M, 1.5M, 100000 (bits per second).
_RATE = r"\d+(\.\d+)?[kKMG]?"
RATE_LIMIT_RE = re.compile(rf"^{_RATE}(/{_RATE})?(\s+{_RATE}(/{_RATE})?){{0,4}}(\s+\d)?$")
PROFILE_RE = re.compile(r"^[\w .@+-]*$")


class PackageForm(UnchangedValuesKeptMixin, BoundedInputMixin, forms.ModelForm):
    depends_on = {"period_count": ("period_unit",)}  # at most 120 months

    price = MoneyField(label=gettext_lazy("Price"), allow_zero=True)

    class Meta:
        model = Package
        fields = [
            "name",
            "price",
            "period_count",
            "period_unit",
            "description",
            "rate_limit",
            "pppoe_profile",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "period_count": forms.NumberInput(attrs={"min": "1", "max": "3650"}),
        }

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["price"].help_text = _("In %(currency)s, for one period.") % {
            "currency": currency_shown(tenant.currency)
        }

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("Enter the package's name."))
        return name

    def clean_period_count(self):
        count = self.cleaned_data["period_count"]
        if count is not None and not 1 <= count <= 3650:
            raise ValidationError(_("Enter a period between 1 and 3650."))
        return count

    def clean_rate_limit(self):
        value = " ".join((self.cleaned_data.get("rate_limit") or "").split())
        if value and not RATE_LIMIT_RE.match(value):
            raise ValidationError(_("Use MikroTik's form rx/tx, e.g. 20M/100M or 512k/2M."))
        return value

    def clean_pppoe_profile(self):
        value = (self.cleaned_data.get("pppoe_profile") or "").strip()
        if not PROFILE_RE.match(value):
            raise ValidationError(_("Use letters, digits, spaces and . @ + - _ only."))
        return value

    def clean(self):
        cleaned = super().clean()
        if (
            self.cleaned_data.get("period_unit") == "months"
            and (self.cleaned_data.get("period_count") or 0) > 120
        ):
            self.add_error("period_count", _("A package runs at most 120 months."))
        return cleaned

    def _post_clean(self):
        self.instance.tenant = self.tenant
        super()._post_clean()

    def validate_unique(self):
        pass  # the service checks the name among active packages (a partial constraint)

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class PackageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Package) -> str:
        return _("%(name)s — %(price)s per %(period)s") % {
            "name": obj.name,
            "price": money(obj.price),
            "period": obj.period_label,
        }


class PurchaseFieldsMixin:
    """Package (the tenant's active ones), start date (the tenant's today by default) and
    auto-renew."""

    def add_purchase_fields(self, tenant: Tenant):
        self.tenant = tenant
        today = tenant_today(tenant)
        self.today = today
        self.fields["package"] = PackageChoiceField(
            queryset=packages_on_sale(tenant=tenant),
            label=_("Package"),
            empty_label=_("Choose a package"),
            error_messages={
                "required": _("Choose a package."),
                "invalid_choice": _("Choose one of the packages on sale."),
            },
            help_text=_("Prices in %(currency)s.") % {"currency": currency_shown(tenant.currency)},
        )
        self.fields["start_date"] = DateField(
            label=_("Start date"),
            initial=today,
            error_messages={"required": _("Enter the start date.")},
        )
        self.fields["auto_renew"] = forms.BooleanField(label=_("Auto-renew"), required=False)

    def clean_start_date(self):
        start = self.cleaned_data["start_date"]
        if start < self.today:
            raise ValidationError(
                _("The start date cannot be in the past (today is %(today)s).")
                % {"today": format_date(self.today)}
            )
        if start > self.today + timedelta(days=MAX_START_AHEAD_DAYS):
            raise ValidationError(_("The start date can be at most a year ahead."))
        return start


class SubscriptionForm(PurchaseFieldsMixin, IdempotentForm):
    """Create subscription, on a client's page."""

    prefix = "sub"

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_purchase_fields(tenant)
        self.order_fields(["package", "start_date", "auto_renew", "token"])


PAYMENT_FIELDS = ("payment", "payment_comment")


class OrderForm(PurchaseFieldsMixin, IdempotentForm):
    """Order subscription: an existing client (by its Client ID) or a new one (the client form,
    validated only when "New client" is chosen), and, for a role that may top up, the payment
    received with the order."""

    prefix = "order"
    EXISTING, NEW = "existing", "new"
    who = forms.ChoiceField(
        label=gettext_lazy("Client"),
        choices=[(EXISTING, gettext_lazy("Existing client")), (NEW, gettext_lazy("New client"))],
        initial=EXISTING,
        widget=forms.RadioSelect,
    )
    client_number = forms.IntegerField(
        label=gettext_lazy("Client ID"),
        required=False,
        min_value=1,
        max_value=BIGINT_MAX,  # the Client ID column
        widget=forms.NumberInput(attrs={"min": "1"}),
        error_messages={"invalid": gettext_lazy("Enter the client's number (Client ID).")},
    )

    def __init__(self, data=None, *, tenant: Tenant, can_take_payment: bool = False, **kwargs):
        super().__init__(data, **kwargs)
        self.add_purchase_fields(tenant)
        if can_take_payment:
            self.add_payment_fields(tenant)
        self.order_fields(
            ["who", "client_number", "package", "start_date", "auto_renew", *PAYMENT_FIELDS]
        )
        self.client_form = self._new_client_form(data, tenant)
        self.client = None

    def _new_client_form(self, data, tenant: Tenant) -> ClientForm:
        """Bound (validated, with its messages) only when "New client" is chosen; otherwise
        what was typed in it is shown again, unchecked."""
        if self.wants_new_client:
            return ClientForm(data, prefix="client", tenant=tenant)
        form = ClientForm(prefix="client", tenant=tenant)
        if data is not None:
            form.initial = {
                name: data.get(form.add_prefix(name))
                for name in form.fields
                if data.get(form.add_prefix(name)) not in (None, "")
            }
        return form

    def add_payment_fields(self, tenant: Tenant) -> None:
        self.fields["payment"] = MoneyField(
            label=_("Payment received"),
            required=False,
            help_text=_("In %(currency)s; recorded as a top-up before the charge.")
            % {"currency": currency_shown(tenant.currency)},
        )
        self.fields["payment_comment"] = forms.CharField(
            label=_("Payment comment"),
            required=False,
            max_length=500,
            help_text=_("E.g. the receipt or bank transfer number."),
        )

    @property
    def payment_fields(self) -> list:
        return [self[name] for name in PAYMENT_FIELDS if name in self.fields]

    @property
    def wants_new_client(self) -> bool:
        return self.is_bound and self.data.get(self.add_prefix("who")) == self.NEW

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("who") == self.EXISTING:
            number = cleaned.get("client_number")
            if number is None and "client_number" not in self.errors:
                self.add_error("client_number", _("Enter the Client ID of an existing client."))
            elif number is not None:
                client = (
                    Client.objects.for_tenant(self.tenant)
                    .filter(number=number)
                    .exclude(status=ClientStatus.DELETED)
                    .first()
                )
                if client is None:
                    self.add_error(
                        "client_number",
                        _("There is no client with ID %(number)s.") % {"number": number},
                    )
                self.client = client
        return cleaned

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if self.wants_new_client:
            return self.client_form.is_valid() and valid
        return valid


class CancelForm(forms.Form):
    prefix = "cancel"
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Say why the subscription is cancelled.")},
    )
    refund = forms.BooleanField(label=gettext_lazy("Refund the unused part"), required=False)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why the subscription is cancelled."))
        return reason


class AutoRenewForm(forms.Form):
    auto_renew = forms.BooleanField(required=False)

"""The client form.

It covers every field an operator enters. Left out on purpose: the client ID (assigned from
the tenant's sequence when the client is saved), the status (a new client is Active; holds
and deletion have their own actions, since the status follows the holds in force) and the
creation date (set when the record is created). Last login, login attempts and last purchase
date are normally recorded by the system; they are editable here so that a client moved from
an earlier system keeps its history.

The tenant's modules decide which fields the form has (clients/modules.py: CLIENT_FIELDS): a
field of another module is not in the form at all, so it is never required nor refused, and
saving keeps its stored value (a new client gets the model's default).
"""

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.dates import DateField, DateTimeField
from core.forms import UnchangedValuesKeptMixin
from core.languages import LanguageSelect, language_choices
from core.numbers import BoundedInputMixin

from .models import Client, ClientGroup
from .modules import CLIENT_FIELDS, hidden_names
from .validators import normalize_phone, validate_itn

COUNTRY_HELP = _("Two-letter ISO code (e.g. RU, DE); decides how the ITN and the login are read.")


class ClientForm(UnchangedValuesKeptMixin, BoundedInputMixin, forms.ModelForm):
    depends_on = {"login": ("country",), "itn": ("country",)}  # both are read by the country
    # Declared so that the class never queries groups unscoped; __init__ gives the tenant's.
    group = forms.ModelChoiceField(
        queryset=ClientGroup._base_manager.none(), required=False, label=_("Client type")
    )
    site = forms.URLField(label=_("Site"), required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = Client
        fields = [
            "name",
            "company",
            "login",
            "email",
            "phone",
            "address",
            "contact_name",
            "contact_email",
            "country",
            "itn",
            "group",
            "property_type",
            "activity_type",
            "region",
            "site",
            "postal_address",
            "accounting_email",
            "language",
            "external_tenant_name",
            "channel",
            "referer",
            "registered_on",
            "last_login_at",
            "failed_login_attempts",
            "activation_required",
            "sms_price",
            "sms_subscription",
            "last_purchase_at",
        ]
        field_classes = {  # in the tenant's date format (and clock), like every date input
            "registered_on": DateField,
            "last_login_at": DateTimeField,
            "last_purchase_at": DateTimeField,
        }
        widgets = {
            "sms_price": forms.NumberInput(attrs={"step": "0.0001", "min": "0"}),
            "failed_login_attempts": forms.NumberInput(attrs={"min": "0"}),
        }
        help_texts = {"country": COUNTRY_HELP, "login": _("Phone number; saved in E.164.")}

    # How the form is laid out: three columns of related fields.
    SECTIONS = (
        (
            _("Client"),
            [
                "name",
                "company",
                "group",
                "property_type",
                "activity_type",
                "country",
                "itn",
                "region",
                "site",
            ],
        ),
        (
            _("Contact"),
            [
                "login",
                "email",
                "phone",
                "address",
                "postal_address",
                "contact_name",
                "contact_email",
                "accounting_email",
                "language",
            ],
        ),
        (
            _("Account"),
            [
                "external_tenant_name",
                "channel",
                "referer",
                "registered_on",
                "sms_price",
                "sms_subscription",
                "activation_required",
                "last_login_at",
                "failed_login_attempts",
                "last_purchase_at",
            ],
        ),
    )

    def sections(self) -> list[dict]:
        """The bound fields by section, for clients/includes/client_form_sections.html."""
        sections = [
            {"title": title, "fields": [self[name] for name in names if name in self.fields]}
            for title, names in self.SECTIONS
        ]
        return [section for section in sections if section["fields"]]

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        for name in hidden_names(CLIENT_FIELDS, tenant):
            self.fields.pop(name, None)
        self.fields["group"].queryset = ClientGroup.objects.for_tenant(tenant)
        self.fields["group"].empty_label = _("No client type")
        if "language" in self.fields:  # each language named in itself; blank: the tenant's
            self.fields["language"].widget = LanguageSelect()
            self.fields["language"].choices = language_choices(_("The tenant's language"))
        for name in ("last_login_at", "last_purchase_at"):
            if name in self.fields:
                self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter the client's name."))
        return name

    def clean_country(self):
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if country and country not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(_("Enter a two-letter ISO country code, e.g. DE or RU."))
        return country

    def clean_itn(self):
        return "".join((self.cleaned_data.get("itn") or "").split())

    def clean(self):
        cleaned = super().clean()
        country = cleaned.get("country", "")
        if "country" in self.errors:
            country = ""
        login = (cleaned.get("login") or "").strip()
        if login:
            try:
                cleaned["login"] = normalize_phone(login, country or None)
            except ValidationError as error:
                self.add_error("login", error)
        itn = cleaned.get("itn")
        if itn and "itn" not in self.errors:
            try:
                validate_itn(itn, country)
            except ValidationError as error:
                self.add_error("itn", error)
        return cleaned

    def _post_clean(self):
        # The model's own validation (max lengths, sms_price >= 0, the group belonging to this
        # tenant) runs on the instance the form builds; the tenant is set first so that
        # TenantOwnedModel.clean() can check links.
        self.instance.tenant = self.tenant
        super()._post_clean()

    def service_data(self) -> dict:
        """The cleaned values of the fields the form has, for `client_create` /
        `client_update` (a field of another module is not touched)."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.fields}

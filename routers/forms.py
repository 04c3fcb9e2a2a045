"""Forms of the routers app. Passwords are write-only: a password field never renders its
value, and on edit an empty password keeps the stored one."""

import ipaddress
import re

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.formatting import format_count
from core.forms import UnchangedValuesKeptMixin
from core.numbers import BoundedInputMixin

from .models import (
    API_PORT,
    API_TLS_PORT,
    Router,
    pppoe_profile_validator,
    pppoe_username_validator,
)
from .services import ROUTER_FIELDS

HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)

PORT_MIN, PORT_MAX = 1, 65535
PORT_MESSAGE = format_lazy(_("Enter a port from {min} to {max}."), min=PORT_MIN, max=PORT_MAX)


def clean_host(value: str) -> str:
    value = value.strip()
    candidate = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        pass
    if HOSTNAME_RE.match(value) and not value.replace(".", "").isdigit():
        return value.lower()
    raise ValidationError(
        _("Enter an IP address or a host name, e.g. 192.0.2.1 or core1.example.net.")
    )


class RouterForm(UnchangedValuesKeptMixin, BoundedInputMixin, forms.ModelForm):
    depends_on = {"port": ("use_tls",), "verify_tls": ("use_tls",)}  # checked against TLS

    password = forms.CharField(
        label=_("API password"),
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Router
        fields = list(ROUTER_FIELDS)  # exactly what router_create/router_update accept

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = bool(self.instance and self.instance.pk)
        self.order_fields(["name", "host", "port", "use_tls", "verify_tls", "username", "password"])
        if self.editing:
            self.fields["password"].help_text = _("Leave empty to keep the stored password.")
        else:
            self.fields["password"].required = True
        self.fields["timeout"].widget.attrs.update(step="0.5", min="0.5", max="60")
        port = self.fields["port"]  # one message for anything that is not a TCP port
        port.error_messages["invalid"] = port.error_messages["out_of_range"] = PORT_MESSAGE
        port.validators = [
            MinValueValidator(PORT_MIN, PORT_MESSAGE),
            MaxValueValidator(PORT_MAX, PORT_MESSAGE),
        ]
        port.widget.attrs.update(min=str(PORT_MIN), max=str(PORT_MAX))

    def clean_host(self):
        return clean_host(self.cleaned_data["host"])

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_password(self):
        password = self.cleaned_data.get("password", "")
        if password and not password.isprintable():
            raise ValidationError(_("The password may not contain control characters."))
        return password

    def clean(self):
        data = super().clean()
        port, tls = data.get("port"), data.get("use_tls")
        if data.get("verify_tls") and not tls:
            self.add_error("verify_tls", _("Certificates are only checked when TLS is used."))
        if tls and port == API_PORT:
            self.add_error("port", _("8728 is the plain API port; API-SSL listens on 8729."))
        if tls is False and port == API_TLS_PORT:
            self.add_error("port", _("8729 is the API-SSL port: tick “Use TLS” or use 8728."))
        return data

    def service_data(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        data["password"] = self.cleaned_data.get("password") or None
        return data


class PppoeAccountForm(UnchangedValuesKeptMixin, forms.Form):
    """The view fills it from the client's account (on POST too) when there is one."""

    stored_fields = ("router", "username", "profile")
    router = forms.ModelChoiceField(
        label=_("Router"), queryset=Router.objects.none(), empty_label=None
    )
    username = forms.CharField(
        label=_("PPPoE username"), max_length=64, validators=[pppoe_username_validator]
    )
    password = forms.CharField(
        label=_("PPPoE password"),
        required=False,
        strip=False,
        max_length=64,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    profile = forms.CharField(
        label=_("Profile"),
        max_length=64,
        initial="default",
        validators=[pppoe_profile_validator],
        help_text=_("The /ppp/profile on the router (speed and address pool)."),
    )

    def __init__(self, *args, tenant, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["router"].queryset = Router.objects.for_tenant(tenant)
        if account is not None:
            self.fields["password"].help_text = _("Leave empty to keep the current password.")
        else:
            self.fields["password"].required = True
            self.fields["password"].help_text = _("At least 6 characters.")

    def clean_password(self):
        password = self.cleaned_data.get("password", "")
        if password and (len(password) < 6 or not password.isprintable() or " " in password):
            raise ValidationError(_("Use at least 6 printable characters without spaces."))
        return password


# The RouterOS API's internal id of an item: "*" and a hexadecimal number.
SECRET_ID_RE = re.compile(r"^\*[0-9A-Fa-f]{1,16}$")
MAX_SECRETS_SELECTED = 50_000


class SecretIdsField(forms.MultipleChoiceField):
    """The secrets ticked on the adoption page, as RouterOS `.id`s: each one of the router's
    own adoptable secrets as read just now (checked for its shape only where the form is not
    given them)."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value) -> list[str]:
        """One value per box, or the ticked boxes comma-joined in one (the page joins them, as
        Django refuses a form of more than 1,000 fields)."""
        return [part for item in super().to_python(value) for part in item.split(",")]

    def valid_value(self, value) -> bool:
        if self.choices:
            return super().valid_value(value)
        return bool(SECRET_ID_RE.match(str(value)))


SELECTION_SALT = "routers.adoption.selection"
SELECTION_REFUSED = _("The reviewed selection is missing or was changed: review the secrets again.")


def adoption_selection_sign(router, secret_ids: list[str]) -> str:
    """The reviewed secrets as one signed field of the confirmation step (one field whatever
    their number; an id list from elsewhere, or for another router, does not verify)."""
    return signing.dumps(list(secret_ids), salt=_selection_salt(router), compress=True)


def _selection_salt(router) -> str:
    return f"{SELECTION_SALT}:{router.tenant_id}:{router.pk}"


class SecretAdoptionForm(forms.Form):
    """Which of a router's own secrets to adopt. The select step sends those ticked, or all of
    them (`all`), to see what adoption will do; the confirmation sends back, with `confirm`,
    the ids that step reviewed (`selection`, signed), and only those are adopted."""

    secret = SecretIdsField(
        label=_("Secrets"),
        required=False,
        error_messages={"invalid_choice": _("Not a secret of this router.")},
    )
    all = forms.BooleanField(label=_("All the secrets no account owns"), required=False)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    selection = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    def __init__(self, *args, router, secret_ids: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.router = router
        if secret_ids is not None:
            self.fields["secret"].choices = [(i, i) for i in secret_ids]

    def clean_secret(self) -> list[str]:
        chosen = self.cleaned_data["secret"]
        if len(chosen) > MAX_SECRETS_SELECTED:
            raise ValidationError(
                ngettext(
                    "Select at most %(count)s secret at a time.",
                    "Select at most %(count)s secrets at a time.",
                    MAX_SECRETS_SELECTED,
                )
                % {"count": format_count(MAX_SECRETS_SELECTED)}
            )
        return list(dict.fromkeys(chosen))

    def clean(self):
        data = super().clean()
        if data.get("confirm"):
            data["reviewed"] = self._reviewed(data.get("selection") or "")
            if data["reviewed"] is None:
                self.add_error("secret", SELECTION_REFUSED)
        elif not data.get("all") and not data.get("secret") and "secret" not in self.errors:
            self.add_error("secret", _("Select the secrets to adopt, or all of them."))
        return data

    def _reviewed(self, selection: str) -> list[str] | None:
        try:
            ids = signing.loads(selection, salt=_selection_salt(self.router))
        except signing.BadSignature:
            return None
        if not isinstance(ids, list) or not ids or len(ids) > MAX_SECRETS_SELECTED:
            return None
        if not all(isinstance(i, str) and SECRET_ID_RE.match(i) for i in ids):
            return None
        return ids

    @property
    def chosen_ids(self) -> list[str] | None:
        """The select step's choice; None means every secret no account owns."""
        return None if self.cleaned_data.get("all") else self.cleaned_data["secret"]

    @property
    def reviewed_ids(self) -> list[str]:
        """The confirmed secrets: exactly those the select step reviewed."""
        return self.cleaned_data["reviewed"]

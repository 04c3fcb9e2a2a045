from django import forms
from django.contrib.auth import password_validation
from django.core import validators
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.dates import DateField
from core.forms import UnchangedValuesKeptMixin
from core.languages import LanguageSelect, language_choices
from core.numbers import BoundedInputMixin

from .models import ApiTokenScope
from .roles import Role
from .services import IDENTITY_FIELDS, operator_login, operator_name_max_length

LOGIN_NAME_VALIDATOR = RegexValidator(
    r"^[\w.+-]+\Z", _("Letters, digits and ./+/-/_ only (no @: the tenant is added).")
)


class IdentityForm(forms.Form):
    """A person's name and e-mail."""

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(max_length=254, label=_("E-mail"))


class OperatorDetailsForm(IdentityForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.VIEWER)


class OperatorCreateForm(OperatorDetailsForm):
    """The typed name becomes a login in the tenant's namespace (see operator_login); the form
    shows the suffix next to the field."""

    username = forms.CharField(
        label=_("Username"), max_length=150, validators=[LOGIN_NAME_VALIDATOR]
    )
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, strip=False)

    field_order = ["username", "first_name", "last_name", "email", "role", "password1"]

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.max_length = operator_name_max_length(tenant)
        field.validators.append(validators.MaxLengthValidator(field.max_length))
        field.widget.attrs["maxlength"] = str(field.max_length)
        field.suffix = operator_login(tenant=tenant, name="")
        field.help_text = _(
            "The operator logs in as this name followed by %(suffix)s. "
            "Letters, digits and ./+/-/_ only."
        ) % {"suffix": field.suffix}

    def clean_password2(self):
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            raise forms.ValidationError(_("The two passwords do not match."))
        if second:
            password_validation.validate_password(second)
        return second


class OperatorUpdateForm(UnchangedValuesKeptMixin, OperatorDetailsForm):
    """Filled from the membership and its person (on POST too): an e-mail stored under older
    rules is kept when left as shown."""

    stored_fields = ("first_name", "last_name", "email", "role", "is_active")
    is_active = forms.BooleanField(
        required=False,
        label=pgettext_lazy("operator access", "Active"),
        help_text=_(
            "An inactive operator cannot use this tenant; one who works in no other tenant "
            "is signed out at once. Deactivating revokes the API tokens they created here."
        ),
    )

    SHARED_IDENTITY_NOTE = _(
        "This person also works elsewhere in Clientdesk, so only they can change their name "
        "and e-mail (My account)."
    )

    def __init__(self, *args, identity_shared: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.identity_shared = identity_shared
        if identity_shared:  # shown, not editable: a disabled field keeps its initial value
            for name in IDENTITY_FIELDS:  # nor refused: the owner could not correct it
                self.fields[name].disabled = True
                self.fields[name].required = False


class AccountForm(UnchangedValuesKeptMixin, IdentityForm):
    """My account: the signed-in person's own name and e-mail (an e-mail stored under older
    rules is kept when left as shown), and the language of the portal, theirs in every
    tenant."""

    stored_fields = ("first_name", "last_name", "email")
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=(),
        widget=LanguageSelect,
        help_text=_("Blank: the tenant's language, else your browser's."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices(_("As the tenant or the browser"))


class LanguageForm(forms.Form):
    """The user menu's switcher: one of the portal's languages, and the page to go back to."""

    language = forms.ChoiceField(label=_("Language"), choices=(), widget=LanguageSelect)
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = language_choices()


class TenantSecurityForm(forms.Form):
    """The tenant's sign-in rules an owner sets."""

    require_two_factor = forms.BooleanField(
        required=False,
        label=_("Require two-factor authentication for every operator"),
        help_text=_(
            "After the password, every operator enters a code from an authenticator "
            "app; one who has not set it up is asked to, before any page of this tenant."
        ),
    )


class TablePreferencesForm(forms.Form):
    """Columns and page size of one table, validated against that table's class."""

    per_page = forms.TypedChoiceField(coerce=int, required=False, choices=())
    columns = forms.MultipleChoiceField(required=False, choices=())

    def __init__(self, *args, table_class, per_page_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.table_class = table_class
        self.fields["columns"].choices = table_class.choosable_columns()
        self.fields["per_page"].choices = [("", "—")] + [(n, n) for n in per_page_choices]


class ApiTokenForm(BoundedInputMixin, forms.Form):
    """A new API token: its name, what it may do, and an optional last day of validity."""

    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("Where it is used, e.g. “Payment gateway”.")
    )
    scope = forms.ChoiceField(
        label=_("Role or scope"),
        choices=ApiTokenScope.choices,
        initial=ApiTokenScope.INGEST,
        help_text=_("A role acts as an operator of that role; Ingest only sends messages."),
    )
    expires_on = DateField(
        label=_("Valid until"), required=False, help_text=_("Its last day; empty: until revoked.")
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter a name for the token."))
        return name

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate(timezone=self.tenant.zone):
            raise forms.ValidationError(_("Choose today or a later day."))
        return day


class SavedViewForm(forms.Form):
    """Save the list as it is shown: the page it is (`list_path`, `list_query`: its filter and
    sort), under a name, for oneself or shared. The name is checked by the service."""

    name = forms.CharField(label=_("Name"), required=False, strip=False)
    shared = forms.BooleanField(required=False, label=_("Share with the team"))
    list_path = forms.CharField(max_length=500, widget=forms.HiddenInput)
    list_query = forms.CharField(max_length=4000, required=False, widget=forms.HiddenInput)

from django import forms
from django.utils.translation import gettext_lazy as _

from core.numbers import BIGINT_MAX, BoundedInputMixin

from .services import CODE_MAX_LENGTH, TOTP_CODE, code_is_well_formed, code_normalise


class CodeForm(forms.Form):
    """A code of the second factor: the 6 digits the app shows, or one recovery code."""

    code = forms.CharField(
        label=_("Code"),
        max_length=CODE_MAX_LENGTH,
        error_messages={"required": _("Enter the code.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
        help_text=_("The 6 digits your authenticator app shows, or one of your recovery codes."),
    )
    format_error = _(
        "Enter the 6 digits your app shows, or a recovery code of 8 letters and digits."
    )

    def clean_code(self):
        code = self.cleaned_data["code"]
        if not self.is_well_formed(code):
            raise forms.ValidationError(self.format_error)
        return code_normalise(code)

    def is_well_formed(self, code: str) -> bool:
        return code_is_well_formed(code)


class EnrolmentForm(CodeForm):
    """The first code of a new app, which confirms that it was set up."""

    format_error = _("Enter the 6 digits your app shows.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("The 6 digits the app shows once you have added it.")
        self.fields["code"].widget.attrs["inputmode"] = "numeric"

    def is_well_formed(self, code: str) -> bool:
        return bool(TOTP_CODE.match(code_normalise(code)))


class SessionEndForm(BoundedInputMixin, forms.Form):
    """One of the person's sessions, by the id the sessions page shows."""

    session = forms.IntegerField(
        min_value=1,
        max_value=BIGINT_MAX,
        error_messages={"required": _("Choose a session.")},
        widget=forms.HiddenInput,
    )

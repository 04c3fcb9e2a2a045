from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator

from .roles import Role


class OperatorDetailsForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254, label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class OperatorCreateForm(OperatorDetailsForm):
    username = forms.CharField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @/./+/-/_ only.",
    )
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label="Password again", widget=forms.PasswordInput, strip=False)

    field_order = ["username", "first_name", "last_name", "email", "role", "password1"]

    def clean_password2(self):
        first, second = self.cleaned_data.get("password1"), self.cleaned_data.get("password2")
        if first and second and first != second:
            raise forms.ValidationError("The two passwords do not match.")
        if second:
            password_validation.validate_password(second)
        return second


class OperatorUpdateForm(OperatorDetailsForm):
    is_active = forms.BooleanField(
        required=False, label="Active", help_text="An inactive operator cannot use this tenant."
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

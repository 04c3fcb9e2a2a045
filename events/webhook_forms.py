"""The webhook endpoint form. The secret is write-only: never rendered back, and on edit an
empty secret keeps the stored one. The URL's host is checked by the service against the
outbound address policy (the refusal shows next to the URL)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from .types import EVENT_TYPES
from .webhook_models import SECRET_MAX_LENGTH, URL_MAX_LENGTH, WebhookEndpoint
from .webhooks import SECRET_MIN_LENGTH, webhook_secret_problem


def _secret_help() -> str:
    return gettext(
        "%(min)s to %(max)s characters; each delivery is signed with it (X-Clientdesk-Signature)."
    ) % {"min": SECRET_MIN_LENGTH, "max": SECRET_MAX_LENGTH}


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=URL_MAX_LENGTH,
        assume_scheme="https",
        help_text=_(
            "Where Clientdesk posts each event, e.g. https://hooks.example.net/clientdesk."
        ),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    secret = forms.CharField(
        label=_("Signing secret"),
        required=False,
        strip=False,
        max_length=SECRET_MAX_LENGTH,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=lazy(_secret_help, str)(),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=list(EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    is_active = forms.BooleanField(
        label=pgettext_lazy("webhook endpoint", "Active"), required=False, initial=True
    )

    def __init__(self, *args, endpoint: WebhookEndpoint | None = None, **kwargs):
        if endpoint is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "url": endpoint.url,
                "description": endpoint.description,
                "event_types": endpoint.event_types,
                "is_active": endpoint.is_active,
            }
        super().__init__(*args, **kwargs)
        self.endpoint = endpoint
        if endpoint is None:
            self.fields["secret"].required = True
        else:
            self.fields["secret"].help_text = _("Leave empty to keep the stored secret.")

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        if not url.isprintable() or any(c.isspace() for c in url):
            raise ValidationError(_("The URL may not contain spaces or control characters."))
        return url

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description.isprintable():
            raise ValidationError(_("The description may not contain control characters."))
        return description

    def clean_secret(self):
        secret = self.cleaned_data.get("secret", "")
        problem = webhook_secret_problem(secret) if secret else None
        if problem:
            raise ValidationError(problem)
        return secret or None

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if self.endpoint is None:
            data["secret"] = data["secret"] or ""
        return data

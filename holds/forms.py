from django import forms
from django.utils.translation import gettext_lazy as _

from .services import REASON_MAX


class HoldReasonForm(forms.Form):
    """The reason of an administrative hold or of its release: required, at most 500."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": REASON_MAX}),
        error_messages={"required": _("Give a reason.")},
    )

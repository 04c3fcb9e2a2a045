from django import forms

from .services import REASON_MAX


class HoldReasonForm(forms.Form):
    """The reason of an administrative hold or of its release: required, at most 500."""

    reason = forms.CharField(
        label="Reason",
        max_length=REASON_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": REASON_MAX}),
        error_messages={"required": "Give a reason."},
    )

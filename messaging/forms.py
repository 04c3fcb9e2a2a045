"""Forms of the Statistics and Names tabs. Every bad input gives an error next to its field
and changes nothing."""

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.forms import PeriodForm
from core.dates import DateField
from core.forms import UnchangedValuesKeptMixin
from core.numbers import BoundedInputMixin

from .models import MessageChannel, SenderId, SenderStatus
from .selectors import REPORTS
from .services import EDITABLE_FIELDS

MAX_PERIOD_DAYS = 731
CHANNEL_CHOICES = [("", _("All channels")), *MessageChannel.choices]

EXPORT_COLUMNS = [
    ("sent", _("Send SMS (parts)")),
    ("delivered", _("SMS (Parts) Delivered")),
    ("pending", _("Awaiting report (parts)")),
    ("failed", _("Failed or expired (parts)")),
    ("rejected", _("Rejected (parts)")),
    ("efficiency", _("Efficiency")),
    ("price", _("SMS Price")),
    ("messages", _("Messages")),
]
DEFAULT_EXPORT_COLUMNS = ["sent", "delivered", "pending", "efficiency", "price"]
REPORT_CHOICES = [(r.key, r.label) for r in REPORTS.values()]


class StatisticsPeriodForm(PeriodForm):
    """Start and end date (the tenant's days, both included; default the last 30 days) and,
    for the reports over both channels, an optional channel."""

    channel = forms.ChoiceField(label=_("Channel"), choices=CHANNEL_CHOICES, required=False)

    def __init__(self, data=None, *, tenant, **kwargs):
        channel = data.get("channel", "") if data is not None else ""
        super().__init__(data, tenant=tenant, **kwargs)
        if not self.is_bound and channel:  # only a channel chosen: keep it, period default
            self.channel_only = channel if channel in MessageChannel.values else ""
        else:
            self.channel_only = ""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end >= start and end - start >= timedelta(days=MAX_PERIOD_DAYS):
            self.add_error("start", _("Choose a period of at most two years."))
        return cleaned

    @property
    def chosen_channel(self) -> str:
        if self.is_bound and self.is_valid():
            return self.cleaned_data.get("channel") or ""
        return self.channel_only


class StatisticsExportForm(BoundedInputMixin, forms.Form):
    """The export pop-up: which groupings (one sheet each) and which columns."""

    start = DateField(label=_("Start date"))
    end = DateField(label=_("End date"))
    channel = forms.ChoiceField(label=_("Channel"), choices=CHANNEL_CHOICES, required=False)
    reports = forms.MultipleChoiceField(
        label=_("Groupings"),
        choices=REPORT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one grouping.")},
    )
    columns = forms.MultipleChoiceField(
        label=_("Columns"),
        choices=EXPORT_COLUMNS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one column.")},
    )
    token = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "export_%s")  # the period form on the page has id_start
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end date must not be before the start date."))
            elif end - start >= timedelta(days=MAX_PERIOD_DAYS):
                self.add_error("start", _("Choose a period of at most two years."))
        return cleaned


class SenderIdForm(UnchangedValuesKeptMixin, forms.ModelForm):
    depends_on = {"name": ("channel",)}  # unique per channel

    class Meta:
        model = SenderId
        fields = list(EDITABLE_FIELDS)  # exactly what sender_id_update accepts
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 2}),
            "sample_text": forms.Textarea(attrs={"rows": 3}),
            "documents_note": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"name": _("Name")}

    def __init__(self, *args, client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["name"].widget.attrs.update(maxlength=16, autocomplete="off")
        for name in ("purpose", "sample_text", "documents_note"):
            self.fields[name].max_length = 1000

    def clean_name(self):
        return (self.cleaned_data.get("name") or "").strip()

    def clean(self):
        cleaned = super().clean()
        name, channel = cleaned.get("name"), cleaned.get("channel")
        if name and channel:
            clash = (
                SenderId.objects.for_tenant(self.client.tenant)
                .filter(client=self.client, channel=channel, name__iexact=name)
                .exclude(pk=self.instance.pk)
                .exists()
            )
            if clash:
                self.add_error("name", _("This client already has this sender ID on this channel."))
        return cleaned

    def _post_clean(self):
        # The model's validators (sender name rules) run; the tenant and client are the
        # view's, set before saving through the service.
        self.instance.tenant = self.client.tenant
        self.instance.client = self.client
        super()._post_clean()


DECISIONS = [
    (SenderStatus.APPROVED, _("Approve")),
    (SenderStatus.REJECTED, _("Reject")),
    (SenderStatus.BLOCKED, _("Block")),
]


class SenderDecisionForm(forms.Form):
    status = forms.ChoiceField(choices=DECISIONS, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=255, widget=forms.TextInput()
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") == SenderStatus.REJECTED and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Give the reason for the rejection."))
        return cleaned

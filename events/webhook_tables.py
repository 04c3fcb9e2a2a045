"""Tables of the webhook pages: the endpoints, and an endpoint's delivery log."""

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from core.tables import MomentColumn
from tenancy.tables import BaseTable

from .types import event_type_label
from .webhook_models import DeliveryStatus

STATUS_BADGES = {
    DeliveryStatus.DELIVERED: "text-bg-success",
    DeliveryStatus.FAILED: "text-bg-danger",
    DeliveryStatus.RUNNING: "text-bg-info",
    DeliveryStatus.PENDING: "text-bg-secondary",
}


class WebhookEndpointTable(BaseTable):
    url = tables.Column(verbose_name=_("URL"))
    description = tables.Column(verbose_name=_("Description"), orderable=False)
    event_types = tables.Column(verbose_name=_("Events"), orderable=False)
    is_active = tables.Column(verbose_name=_("State"))
    failing_since = MomentColumn(verbose_name=_("Failing since"), default="—")
    created_at = MomentColumn(verbose_name=_("Added"))

    always_columns = ("url", "is_active")
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = None
        fields = ()

    def render_url(self, value, record):
        return format_html(
            '<a href="{}" data-testid="endpoint-{}">{}</a>',
            reverse("events:webhook_endpoint_edit", args=[record.pk]),
            record.pk,
            value,
        )

    def render_event_types(self, value):
        return format_html_join(", ", "{}", ((event_type_label(code),) for code in value))

    def render_is_active(self, value, record):
        if value:
            return format_html(
                '<span class="badge text-bg-success">{}</span>',
                pgettext("webhook endpoint", "Active"),
            )
        if record.disabled_at:
            label = pgettext("webhook endpoint", "Disabled")
        else:
            label = pgettext("webhook endpoint", "Off")
        return format_html(
            '<span class="badge text-bg-secondary" title="{}">{}</span>',
            str(record.disabled_reason),  # a stored message, read in the reader's language
            label,
        )


class WebhookDeliveryTable(BaseTable):
    created_at = MomentColumn(verbose_name=_("Created"))
    event_type = tables.Column(verbose_name=_("Event"), accessor="event__type", orderable=False)
    status = tables.Column(verbose_name=_("Status"))
    attempts = tables.Column(verbose_name=_("Tries"))
    last_attempt_at = MomentColumn(verbose_name=_("Last try"), default="—")
    response_code = tables.Column(verbose_name=_("Response"), default="—")
    duration_ms = tables.Column(verbose_name=_("Time (ms)"), default="—")
    response_excerpt = tables.TemplateColumn(
        template_name="events/webhook_delivery_excerpt.html",
        verbose_name=_("Answer"),
        orderable=False,
    )
    delivery_id = tables.Column(verbose_name=_("Delivery ID"), orderable=False)
    redeliver = tables.TemplateColumn(
        template_name="events/webhook_delivery_redeliver.html",
        verbose_name="",
        orderable=False,
        empty_values=(),
    )

    always_columns = ("created_at", "status", "redeliver")
    default_columns = (
        "created_at",
        "event_type",
        "status",
        "attempts",
        "response_code",
        "duration_ms",
        "response_excerpt",
        "redeliver",
    )
    related_for_columns = {"event_type": ("event",)}
    default_order = "-created_at"
    exact_count_limit = 1000

    class Meta(BaseTable.Meta):
        model = None
        fields = ()
        row_attrs = {"data-delivery": lambda record: str(record.delivery_id)}

    def render_event_type(self, value):
        return event_type_label(value)

    def render_delivery_id(self, value):
        return format_html("<code>{}</code>", value)

    def render_status(self, value, record):
        return format_html(
            '<span class="badge {}" data-testid="delivery-status">{}</span>',
            STATUS_BADGES.get(value, "text-bg-secondary"),
            record.get_status_display(),
        )

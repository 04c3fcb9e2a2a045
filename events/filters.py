"""The audit log's filters: type, operator, object, client and period.

Every bad value is ignored with a message next to its field (django-filter leaves an invalid
field out of the query). The period's days are the tenant's (core.dates), turned into
instants so that the (tenant, created_at, id) index serves the range."""

from datetime import date, datetime, time, timedelta

import django_filters
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.dates import DateField
from core.widgets import QuickSelect

from .models import Event
from .types import OBJECT_TYPES, type_choices

ID_MAX = 2**63 - 1


# Days beyond these hold no event; clamping keeps the instants computable in any time zone.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(8999, 12, 31)


def _day_start(day) -> datetime:
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return timezone.make_aware(datetime.combine(day, time.min))


class TenantDateFilter(django_filters.DateFilter):
    field_class = DateField


class EventFilterSet(django_filters.FilterSet):
    # QuickSelect: forty types drawn by Django's template per option cost more than the query.
    type = django_filters.ChoiceFilter(
        choices=type_choices, label=_("Type"), empty_label=_("Any event"), widget=QuickSelect
    )
    actor = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.none(),
        label=pgettext_lazy("portal user", "Operator"),
        empty_label=_("Anyone"),
        widget=QuickSelect,
    )
    object_type = django_filters.ChoiceFilter(
        choices=OBJECT_TYPES, label=_("Object"), empty_label=_("Any object"), widget=QuickSelect
    )
    object_id = django_filters.NumberFilter(label=_("Object ID"), min_value=1, max_value=ID_MAX)
    client_id = django_filters.NumberFilter(label=_("Client"), min_value=1, max_value=ID_MAX)
    since = TenantDateFilter(label=_("From"), method="filter_since")
    until = TenantDateFilter(label=_("To"), method="filter_until")

    class Meta:
        model = Event
        fields = ["type", "actor", "object_type", "object_id", "client_id"]

    def __init__(self, *args, tenant=None, money_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.none()
        if tenant is not None:
            users = get_user_model().objects.filter(memberships__tenant=tenant).order_by("username")
        self.filters["actor"].queryset = users
        self.form.fields["actor"].queryset = users
        self.form.fields["type"].choices = [
            ("", _("Any event")),
            *type_choices(money_only=money_only),
        ]

    def filter_since(self, queryset, name, value):
        return queryset.filter(created_at__gte=_day_start(value))

    def filter_until(self, queryset, name, value):
        return queryset.filter(created_at__lt=_day_start(min(value, LAST_DAY) + timedelta(days=1)))

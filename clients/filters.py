"""The filters of the client list.

Every bad value is ignored with a message next to its field (django-filter leaves an invalid
field out of the query): an unknown status or client type, a date that is not a date, a
range whose start is after its end. The list then shows what the valid filters select.
Deleted clients are hidden unless the status filter asks for them (also when nothing is
filtered at all). Sorting is applied by the table (`?sort=`, the same parameter as the column
headers); the `sort` field here only offers the choices in the filter bar.

The apps above add their filters through clients.extensions (subscriptions: expiring within N
days; routers: the connection status), for the tenants of their modules. How the filter bar
shows all of them is clients.filter_bar's.
"""

import copy

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_filters import (
    CharFilter,
    ChoiceFilter,
    DateFromToRangeFilter,
    FilterSet,
    ModelChoiceFilter,
    MultipleChoiceFilter,
)
from django_filters.fields import ChoiceField, DateRangeField, RangeField

from core.dates import DateField

from .extensions import LIST_FILTERS
from .models import Client, ClientGroup, ClientStatus, PropertyType
from .modules import CLIENT_FILTERS, hidden_names, sort_offered
from .selectors import SEARCH_MAX_LENGTH, client_search

SORT_CHOICES = [
    ("-last_purchase_at", _("Last purchase date, latest first")),
    ("last_purchase_at", _("Last purchase date, earliest first")),
    ("-created_at", _("Creation date, latest first")),
    ("created_at", _("Creation date, earliest first")),
    ("number", _("ID, ascending")),
    ("-number", _("ID, descending")),
    ("name", _("Name, A to Z")),
    ("-name", _("Name, Z to A")),
]


class SearchField(forms.CharField):
    """The search box: surplus characters past SEARCH_MAX_LENGTH are cut, never an error (a
    pasted paragraph still searches for its beginning)."""

    def to_python(self, value):
        value = super().to_python(value)
        return value[:SEARCH_MAX_LENGTH] if value else value


class SortField(ChoiceField):
    """The sort choice: an unknown value is not an error, the table falls back to its default
    order (the same as an unknown `?sort=` on a column header)."""

    def validate(self, value):
        pass

    def clean(self, value):
        value = super().clean(value)
        return value if self.valid_value(value) else ""


class SortFilter(ChoiceFilter):
    field_class = SortField


class SearchFilter(CharFilter):
    field_class = SearchField


class OrderedDateRangeField(DateRangeField):
    """A date range, in the tenant's date format, whose start must not be after its end."""

    def __init__(self, *args, **kwargs):
        RangeField.__init__(self, (DateField(), DateField()), *args, **kwargs)

    def clean(self, value):
        cleaned = super().clean(value)
        if cleaned and cleaned.start and cleaned.stop and cleaned.start > cleaned.stop:
            raise ValidationError(
                _("The start date is after the end date; this range was ignored."), code="order"
            )
        return cleaned


class OrderedDateRangeFilter(DateFromToRangeFilter):
    field_class = OrderedDateRangeField


def tenant_groups(request):
    if request is None or getattr(request, "tenant", None) is None:
        return ClientGroup.objects.none()
    return ClientGroup.objects.for_tenant(request.tenant)


class ClientFilterSet(FilterSet):
    q = SearchFilter(
        method="filter_search",
        label=_("Search"),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "maxlength": SEARCH_MAX_LENGTH,
                "autocomplete": "off",
                "aria-label": _("Search clients"),
            }
        ),
    )
    status = MultipleChoiceFilter(
        choices=ClientStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        label=_("Status"),
        distinct=False,  # no join: DISTINCT would only make PostgreSQL sort every match
    )
    group = ModelChoiceFilter(
        queryset=tenant_groups, label=_("Client type"), empty_label=_("Any client type")
    )
    property_type = ChoiceFilter(
        choices=PropertyType.choices,
        label=_("Property type"),
        empty_label=_("Any property type"),
    )
    created = OrderedDateRangeFilter(field_name="created_at", label=_("Creation date"))
    purchased = OrderedDateRangeFilter(field_name="last_purchase_at", label=_("Last purchase date"))
    sort = SortFilter(
        choices=SORT_CHOICES, method="filter_nothing", label=_("Sort on"), empty_label=None
    )

    class Meta:
        model = Client
        fields = [
            "q",
            "status",
            "group",
            "property_type",
            "created",
            "purchased",
            "sort",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = getattr(self.request, "tenant", None)
        if self.tenant is not None:
            # A filter of a module the tenant does not use goes with its field and message
            # (clients/modules.py: CLIENT_FILTERS); its parameter is then simply ignored.
            for name in hidden_names(CLIENT_FILTERS, self.tenant):
                self.filters.pop(name, None)
            self.filters["sort"].extra["choices"] = sort_choices_for(self.tenant)
        for contributed in LIST_FILTERS.for_tenant(self.tenant):
            self.add_filter(contributed.name, contributed.filter)

    def add_filter(self, name: str, filter_) -> None:
        """A filter another app contributes, bound to this FilterSet as a declared one is."""
        added = copy.deepcopy(filter_)
        if added.field_name is None:
            added.field_name = name
        added.model = self.queryset.model
        added.parent = self
        self.filters[name] = added

    # -- queries ---------------------------------------------------------------------------
    @property
    def qs(self):
        """The filtered rows; Deleted clients only when the status filter names them (the
        unbound form, i.e. no parameters at all, hides them too)."""
        if not hasattr(self, "_qs"):
            queryset = super().qs
            if not self.selected_statuses:
                queryset = self.unfiltered(queryset)
            self._qs = queryset
        return self._qs

    @staticmethod
    def unfiltered(queryset):
        """What the list shows when nothing is filtered: every client but the deleted."""
        return queryset.exclude(status=ClientStatus.DELETED)

    @property
    def cleaned(self) -> dict:
        """The valid part of the filters (an invalid field is absent)."""
        if not self.is_bound:
            return {}
        self.form.is_valid()
        return self.form.cleaned_data

    @property
    def selected_statuses(self) -> list[str]:
        return list(self.cleaned.get("status") or [])

    def filter_search(self, queryset, name, value):
        return client_search(queryset, value)

    def filter_nothing(self, queryset, name, value):
        return queryset


def sort_choices_for(tenant) -> list[tuple[str, str]]:
    """The sorts of the columns the tenant's modules offer."""
    return [(value, label) for value, label in SORT_CHOICES if sort_offered(value, tenant)]

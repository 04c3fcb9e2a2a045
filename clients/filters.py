"""The filters of the client list.

Every bad value is ignored with a message next to its field (django-filter leaves an invalid
field out of the query): an unknown status or client type, a date that is not a date, a
range whose start is after its end. The list then shows what the valid filters select.
Deleted clients are hidden unless the status filter asks for them (also when nothing is
filtered at all). Sorting is applied by the table (`?sort=`, the same parameter as the column
headers); the `sort` field here only offers the choices in the filter bar.
"""

from django import forms
from django.core.exceptions import ValidationError
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
from holds.filters import ExpiringWithinFilter

from .models import Client, ClientGroup, ClientStatus, PropertyType
from .modules import (
    CLIENT_FIELDS,
    LIST_FILTERS,
    default_sort_for,
    hidden_names,
    shows,
    sort_offered,
)
from .selectors import SEARCH_MAX_LENGTH, client_search

SORT_CHOICES = [
    ("-last_purchase_at", "Last purchase date, latest first"),
    ("last_purchase_at", "Last purchase date, earliest first"),
    ("-created_at", "Creation date, latest first"),
    ("created_at", "Creation date, earliest first"),
    ("number", "ID, ascending"),
    ("-number", "ID, descending"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
]
# The fields the search box reads (clients.selectors.client_search), as its placeholder names
# them.
SEARCHED_FIELDS = [
    ("number", "ID"),
    ("login", "login"),
    ("company", "company"),
    ("name", "name"),
    ("itn", "ITN"),
    ("email", "e-mail"),
    ("contact_name", "contact person"),
]
# The PPPoE account's status (routers.models.ConnectionStatus), or no account at all.
CONNECTION_CHOICES = [
    ("online", "🟢 Online"),
    ("offline", "🔴 Offline"),
    ("unknown", "⚪ Unknown"),
    ("none", "No PPPoE account"),
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
                "The start date is after the end date; this range was ignored.", code="order"
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
        label="Search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "maxlength": SEARCH_MAX_LENGTH,
                "autocomplete": "off",
                "aria-label": "Search clients",
            }
        ),
    )
    status = MultipleChoiceFilter(
        choices=ClientStatus.choices,
        widget=forms.CheckboxSelectMultiple,
        label="Status",
        distinct=False,  # no join: DISTINCT would only make PostgreSQL sort every match
    )
    group = ModelChoiceFilter(
        queryset=tenant_groups, label="Client type", empty_label="Any client type"
    )
    property_type = ChoiceFilter(
        choices=PropertyType.choices, label="Property type", empty_label="Any property type"
    )
    created = OrderedDateRangeFilter(field_name="created_at", label="Creation date")
    purchased = OrderedDateRangeFilter(field_name="last_purchase_at", label="Last purchase date")
    expiring = ExpiringWithinFilter()  # a subscription ends within N days
    connection = ChoiceFilter(  # the PPPoE account's live status, for tenants with routers
        choices=CONNECTION_CHOICES,
        method="filter_connection",
        label="Connection status",
        empty_label="Any connection status",
    )
    sort = SortFilter(
        choices=SORT_CHOICES, method="filter_nothing", label="Sort on", empty_label=None
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
            "expiring",
            "connection",
            "sort",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = getattr(self.request, "tenant", None)
        if self.tenant is not None:
            # A filter of a module the tenant does not use goes with its field and message
            # (clients/modules.py: LIST_FILTERS); its parameter is then simply ignored.
            for name in hidden_names(LIST_FILTERS, self.tenant):
                self.filters.pop(name, None)
            self.filters["sort"].extra["choices"] = self.sort_choices

    # -- queries ---------------------------------------------------------------------------
    @property
    def qs(self):
        """The filtered rows; Deleted clients only when the status filter names them (the
        unbound form, i.e. no parameters at all, hides them too)."""
        if not hasattr(self, "_qs"):
            queryset = super().qs
            if not self.selected_statuses:
                queryset = queryset.exclude(status=ClientStatus.DELETED)
            self._qs = queryset
        return self._qs

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

    def filter_connection(self, queryset, name, value):
        if value == "none":
            return queryset.filter(pppoe_account__isnull=True)
        return queryset.filter(pppoe_account__status=value)

    # -- what the template shows -------------------------------------------------------------
    @property
    def status_active(self) -> bool:
        """Whether the Status button is highlighted (any status chosen)."""
        return bool(self.selected_statuses)

    # The filter bar is rendered from plain lists rather than Django's widget templates: it is
    # on every page of the list, and a widget template per checkbox and select costs more than
    # the list's own query.
    @property
    def status_choices(self):
        return ClientStatus.choices

    def _select(self, name: str, choices, raw) -> dict:
        """One drop-down of the filter bar; its labels are the filter's own."""
        filter_ = self.filters[name]
        return {
            "name": name,
            "label": filter_.label,
            "empty_label": filter_.extra["empty_label"],
            "choices": choices,
            "chosen": raw.get(name, ""),
            "field": self.form[name],
        }

    @property
    def selects(self) -> list[dict]:
        """The drop-downs the tenant's modules offer (client type, property type, connection
        status): name, label, choices and the chosen value."""
        raw = self.data if self.is_bound else {}
        choices = {
            "group": lambda: [
                (str(pk), name)
                for pk, name in self.filters["group"]
                .get_queryset(self.request)
                .values_list("pk", "name")
            ],
            "property_type": lambda: PropertyType.choices,
            "connection": lambda: CONNECTION_CHOICES,
        }
        return [
            self._select(name, offer(), raw)
            for name, offer in choices.items()
            if name in self.filters
        ]

    @property
    def sort_choices(self) -> list[tuple[str, str]]:
        """The sorts of the columns the tenant's modules offer."""
        return [(value, label) for value, label in SORT_CHOICES if sort_offered(value, self.tenant)]

    @property
    def search_placeholder(self) -> str:
        """What the search box finds, among the fields the tenant's modules show."""
        return ", ".join(
            label for name, label in SEARCHED_FIELDS if shows(CLIENT_FIELDS, name, self.tenant)
        )

    @property
    def offers(self) -> set[str]:
        """The names of the filters this tenant's list has, for the filter bar."""
        return set(self.filters)

    @property
    def search_value(self) -> str:
        """What the search box shows: the searched text, i.e. cut to SEARCH_MAX_LENGTH."""
        raw = self.data.get("q", "") if self.is_bound else ""
        return str(raw).strip()[:SEARCH_MAX_LENGTH]

    @property
    def sort_value(self) -> str:
        requested = self.data.get("sort") if self.is_bound else None
        return requested if requested in dict(self.sort_choices) else default_sort_for(self.tenant)

    @property
    def active_count(self) -> int:
        """How many filters (not search or sort) are in force, for the "Filters" button."""
        data = self.cleaned
        names = ("group", "property_type", "status", "expiring", "connection")
        count = sum(1 for n in names if data.get(n))
        for name in ("created", "purchased"):
            value = data.get(name)
            count += bool(value and (value.start or value.stop))
        return count

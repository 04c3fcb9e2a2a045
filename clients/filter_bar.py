"""What the client list's filter bar shows, read from a bound ClientFilterSet: the FilterSet
filters, this presents (clients/client_filter_form.html, filter_sort.html).

The bar is rendered from plain lists rather than Django's widget templates: it is on every page
of the list, and a widget template per checkbox and select costs more than the list's query.
"""

from functools import cached_property

from django.utils.translation import gettext_lazy as _

from .extensions import LIST_FILTERS
from .filters import ClientFilterSet, sort_choices_for
from .models import ClientStatus, PropertyType
from .modules import CLIENT_FIELDS, default_sort_for, shows
from .selectors import SEARCH_MAX_LENGTH

# The fields the search box reads (clients.selectors.client_search), as its placeholder names
# them.
SEARCHED_FIELDS = [
    ("number", _("ID")),
    ("login", _("login")),
    ("company", _("company")),
    ("name", _("name")),
    ("itn", _("ITN")),
    ("email", _("e-mail")),
    ("contact_name", _("contact person")),
]
# Filters the "Filters" count leaves out: the search box and the sort choice.
NOT_COUNTED = {"q", "sort"}


class ClientFilterBar:
    def __init__(self, filterset: ClientFilterSet) -> None:
        self.filterset = filterset
        self.tenant = filterset.tenant
        self.form = filterset.form
        self._raw = filterset.data if filterset.is_bound else {}

    # -- search and sort -------------------------------------------------------------------
    @property
    def search_value(self) -> str:
        """What the search box shows: the searched text, i.e. cut to SEARCH_MAX_LENGTH."""
        return str(self._raw.get("q", "")).strip()[:SEARCH_MAX_LENGTH]

    @property
    def search_placeholder(self) -> str:
        """What the search box finds, among the fields the tenant's modules show."""
        return ", ".join(
            str(label) for name, label in SEARCHED_FIELDS if shows(CLIENT_FIELDS, name, self.tenant)
        )

    @cached_property
    def sort_choices(self) -> list[tuple[str, str]]:
        return sort_choices_for(self.tenant)

    @property
    def sort_value(self) -> str:
        requested = self._raw.get("sort")
        return requested if requested in dict(self.sort_choices) else default_sort_for(self.tenant)

    # -- status ------------------------------------------------------------------------------
    status_choices = ClientStatus.choices

    @property
    def selected_statuses(self) -> list[str]:
        return self.filterset.selected_statuses

    @property
    def status_active(self) -> bool:
        """Whether the Status button is highlighted (any status chosen)."""
        return bool(self.selected_statuses)

    # -- the other filters ---------------------------------------------------------------------
    @property
    def offers(self) -> set[str]:
        """The names of the filters this tenant's list has."""
        return set(self.filterset.filters)

    @cached_property
    def selects(self) -> list[dict]:
        """The drop-downs the tenant's modules offer (client type, property type, and the
        contributed choice filters without a template of their own, e.g. the connection
        status): name, label, choices and the chosen value."""
        filters = self.filterset.filters
        offered = {
            "group": self._group_choices,
            "property_type": lambda: PropertyType.choices,
        }
        for contributed in LIST_FILTERS.for_tenant(self.tenant):
            if contributed.template is None and "choices" in filters[contributed.name].extra:
                offered[contributed.name] = filters[contributed.name].extra["choices"]
        return [
            self._select(name, choices() if callable(choices) else choices)
            for name, choices in offered.items()
            if name in filters
        ]

    @property
    def contributed_parts(self) -> list[dict]:
        """The contributed filters with a template of their own: its name and the bound
        field it shows (e.g. subscriptions' Expiring within N days)."""
        return [
            {"name": f.name, "template": f.template, "field": self.form[f.name]}
            for f in LIST_FILTERS.for_tenant(self.tenant)
            if f.template is not None and f.name in self.filterset.filters
        ]

    @property
    def active_count(self) -> int:
        """How many filters (not search or sort) are in force, for the "Filters" button."""
        count = 0
        for name, value in self.filterset.cleaned.items():
            if name in NOT_COUNTED:
                continue
            if hasattr(value, "start"):  # a date range: either end in force
                count += bool(value.start or value.stop)
            else:
                count += bool(value)
        return count

    def _group_choices(self) -> list[tuple[str, str]]:
        groups = self.filterset.filters["group"].get_queryset(self.filterset.request)
        return [(str(pk), name) for pk, name in groups.values_list("pk", "name")]

    def _select(self, name: str, choices) -> dict:
        """One drop-down of the filter bar; its labels are the filter's own."""
        filter_ = self.filterset.filters[name]
        return {
            "name": name,
            "label": filter_.label,
            "empty_label": filter_.extra["empty_label"],
            "choices": choices,
            "chosen": self._raw.get(name, ""),
            "field": self.form[name],
        }

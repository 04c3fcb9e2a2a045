import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import ApiToken, ApiTokenScope, Membership
from .roles import Role


class MembershipFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"), max_length=100)
    role = django_filters.ChoiceFilter(
        label=_("Role"), choices=Role.choices, empty_label=_("Any role")
    )
    is_active = django_filters.ChoiceFilter(
        label=_("Access"),
        choices=[
            ("true", pgettext_lazy("operator access", "Active")),
            ("false", pgettext_lazy("operator access", "Deactivated")),
        ],
        empty_label=pgettext_lazy("operator access", "Any"),
        method="filter_active",
    )

    class Meta:
        model = Membership
        fields = ["q", "role", "is_active"]

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "true")

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(user__username__icontains=value)
            | Q(user__first_name__icontains=value)
            | Q(user__last_name__icontains=value)
            | Q(user__email__icontains=value)
        )


class ApiTokenFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", label=_("Search"), max_length=100
    )
    scope = django_filters.ChoiceFilter(
        label=_("Role or scope"), choices=ApiTokenScope.choices, empty_label=_("Any scope")
    )

    class Meta:
        model = ApiToken
        fields = ["q", "scope"]

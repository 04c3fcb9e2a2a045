import django_filters
from django.db.models import Q

from .models import ApiToken, ApiTokenScope, Membership
from .roles import Role


class MembershipFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    role = django_filters.ChoiceFilter(choices=Role.choices, empty_label="Any role")
    is_active = django_filters.ChoiceFilter(
        label="Access",
        choices=[("true", "Active"), ("false", "Deactivated")],
        empty_label="Any",
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
        field_name="name", lookup_expr="icontains", label="Search", max_length=100
    )
    scope = django_filters.ChoiceFilter(choices=ApiTokenScope.choices, empty_label="Any scope")

    class Meta:
        model = ApiToken
        fields = ["q", "scope"]

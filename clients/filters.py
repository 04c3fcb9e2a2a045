import django_filters

from .models import Client, ClientStatus


class ClientFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ClientStatus.choices)

    class Meta:
        model = Client
        fields = ["status"]

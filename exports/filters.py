import django_filters

from .models import ExportJob, ExportStatus
from .registry import EXPORT_KINDS


def kind_choices():
    return sorted(((k.key, k.label) for k in EXPORT_KINDS.values()), key=lambda c: c[1])


class ExportJobFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ExportStatus.choices, empty_label="Any status")
    kind = django_filters.ChoiceFilter(choices=kind_choices, empty_label="Any export")

    class Meta:
        model = ExportJob
        fields = ["status", "kind"]

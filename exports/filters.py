import django_filters
from django.utils.translation import gettext_lazy as _

from .models import ExportJob, ExportStatus
from .registry import EXPORT_KINDS


def kind_choices():
    return sorted(((k.key, k.label) for k in EXPORT_KINDS.values()), key=lambda c: str(c[1]))


class ExportJobFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=ExportStatus.choices, label=_("Status"), empty_label=_("Any status")
    )
    kind = django_filters.ChoiceFilter(
        choices=kind_choices, label=_("Kind"), empty_label=_("Any export")
    )

    class Meta:
        model = ExportJob
        fields = ["status", "kind"]

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.tables import MomentColumn
from tenancy.tables import BaseTable

from .models import ExportJob


class JobProgressColumn(tables.TemplateColumn):
    """The job's progress bar, or its Download link; exported as its status."""

    export_reads = ("status",)

    def export_value(self, record):
        return record.get_status_display()


class ExportJobTable(BaseTable):
    created_at = MomentColumn(verbose_name=_("Requested"))
    title = tables.Column(verbose_name=_("Export"), accessor="heading", orderable=False)
    created_by = tables.Column(
        verbose_name=pgettext_lazy("portal user", "Operator"),
        accessor="created_by__username",
        orderable=False,
    )
    status = JobProgressColumn(
        template_name="exports/includes/job_progress_cell.html",
        verbose_name=_("Progress"),
        orderable=False,
    )
    finished_at = MomentColumn(verbose_name=_("Finished"), orderable=False)

    always_columns = ("created_at", "title", "status")
    related_for_columns = {"created_by": ("created_by",)}
    default_order = "-created_at"

    class Meta(BaseTable.Meta):
        model = ExportJob
        fields = ()
        row_attrs = {"data-job": lambda record: record.pk}

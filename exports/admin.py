from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tenancy.admin import ReadOnlyAdmin, StoredTextAdminMixin

from .models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(StoredTextAdminMixin, ReadOnlyAdmin):
    list_display = ("id", "tenant", "kind", "heading_shown", "created_by", "status", "progress")
    list_display += ("total",)
    list_display += ("created_at", "finished_at")
    list_filter = ("tenant", "status", "kind")
    list_select_related = ("tenant", "created_by")
    search_fields = ("title", "kind", "created_by__username")
    readonly_fields = ("created_at", "started_at", "finished_at", "progress", "total")
    readonly_fields += ("attempts", "heartbeat_at", "lease_expires_at")
    raw_id_fields = ("created_by",)

    @admin.display(description=_("title"))
    def heading_shown(self, job: ExportJob) -> str:
        return job.heading

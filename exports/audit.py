"""The audit log's .xlsx export: exactly the page's rows (the events app's selector, its
FilterSet over the same query string, the same order), for the same people: owners every
event, accountants the money events. The events app sits below exports, so its export kind,
and the button's view, live here."""

from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.urls import reverse
from django.views import View

from events.filters import EventFilterSet
from events.selectors import audit_events, sees_money_only
from events.types import AUDIT_ROLES, EVENT_TYPES
from tenancy.mixins import TenantRequiredMixin
from tenancy.models import Membership
from tenancy.roles import Capability

from .registry import ExportGone, ExportKind, ExportSpec
from .services import export_job_create
from .views import export_started_response
from .xlsx import XlsxColumn

AUDIT_EXPORT_KIND = "events.audit"
CHUNK_SIZE = 2000
# What of the page's query string the export keeps: its filters and its order (not its page).
KEPT = {*EventFilterSet.base_filters, "sort"}

COLUMNS = [
    XlsxColumn("When", "datetime", width=20),
    XlsxColumn("Event", "text", width=26),
    XlsxColumn("What happened", "text", width=60),
    XlsxColumn("Who", "text", width=24),
    XlsxColumn("Object", "text", width=18),
    XlsxColumn("Object ID", "integer", width=12),
    XlsxColumn("Client", "integer", width=12),
]


def _who(first_name, last_name, username, label) -> str:
    """The Who column of the page (Event.who), from the row's values."""
    if username:
        return f"{first_name} {last_name}".strip() or username
    return label or "system"


def audit_rows(queryset):
    fields = (
        "created_at",
        "type",
        "description",
        "actor__first_name",
        "actor__last_name",
        "actor__username",
        "actor_label",
        "object_type",
        "object_id",
        "client_id",
    )
    for (
        created_at,
        type_,
        description,
        first,
        last,
        login,
        label,
        obj,
        obj_id,
        client,
    ) in queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE):
        yield (
            created_at,
            EVENT_TYPES.get(type_, type_),
            description,
            _who(first, last, login, label),
            obj,
            obj_id,
            client,
        )


def audit_filtered(*, tenant, membership, parameters: dict):
    """The page's events for this member and these filters, in the page's order."""
    query = QueryDict(mutable=True)
    for name, values in parameters.items():
        query.setlist(name, values)
    filterset = EventFilterSet(
        query or None,
        queryset=audit_events(tenant=tenant, membership=membership),
        tenant=tenant,
        money_only=sees_money_only(membership),
    )
    ascending = query.get("sort") == "created_at"
    return filterset.qs.order_by(*(("created_at", "id") if ascending else ("-created_at", "-id")))


def build_audit_export(job) -> ExportSpec:
    membership = (
        Membership.objects.for_tenant(job.tenant)
        .filter(user_id=job.created_by_id, is_active=True)
        .first()
    )
    if membership is None or membership.role not in AUDIT_ROLES:
        raise ExportGone("The operator who asked for this export no longer reads the audit log.")
    events = audit_filtered(
        tenant=job.tenant, membership=membership, parameters=job.parameters.get("query", {})
    )
    return ExportSpec(
        columns=COLUMNS,
        rows=audit_rows(events),
        filename=f"audit-log-{job.created_at:%Y%m%d-%H%M}.xlsx",
        sheet_title="Audit log",
    )


AUDIT_EXPORT = ExportKind(key=AUDIT_EXPORT_KIND, label="Audit log", build=build_audit_export)


def _page_query(request) -> QueryDict:
    """The query string of the page as the operator sees it: with HTMX, the page's current
    URL (filters and sorts since the page was loaded changed it, not the form's hidden
    fields); without, the hidden fields, written from the URL the page was loaded with."""
    current = getattr(request, "htmx", None) and request.htmx.current_url
    if current:
        parts = urlsplit(current)
        if parts.path == reverse("events:event_list"):
            return QueryDict(parts.query)
    return request.POST


class AuditLogExportView(TenantRequiredMixin, View):
    """Queue the .xlsx of the audit log as filtered on the page (its query string, posted
    back by the page's Export button). Owners and accountants only, like the page."""

    required_capability = Capability.EXPORT
    http_method_names = ["post"]

    def post(self, request):
        if request.membership.role not in AUDIT_ROLES:
            raise PermissionDenied("Your role does not allow this.")
        query = {
            name: [value[:200] for value in values[:5]]
            for name, values in _page_query(request).lists()
            if name in KEPT
        }
        token = (request.POST.get("token") or "").strip()[:60]
        job = export_job_create(
            tenant=request.tenant,
            actor=request.user,
            kind=AUDIT_EXPORT_KIND,
            parameters={"query": query},
            title="Audit log",
            idempotency_key=f"audit-export:{token}" if token else None,
        )
        return export_started_response(request, job)

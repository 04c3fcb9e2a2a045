"""The view mixins through which every portal view gets its tenant, role check and querysets."""

import uuid

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.generic import TemplateView

from core.views import TableFragmentMixin

from .modules import uses_any
from .roles import Capability
from .selectors import saved_view_applied, saved_view_removable, saved_views_for


class TenantRequiredMixin:
    """Refuses a request without a tenant, or whose role lacks `required_capability` (403)."""

    required_capability: str = Capability.VIEW

    def dispatch(self, request, *args, **kwargs):
        if request.tenant is None:
            return render(request, "tenancy/no_tenant.html", status=403)
        if not request.membership.allows(self.required_capability):
            raise PermissionDenied("Your role does not allow this.")
        return super().dispatch(request, *args, **kwargs)


class ModuleRequiredMixin:
    """Pages of a module exist only for tenants that use it (tenancy.modules): for any other
    tenant they are a 404, as a URL that names nothing. Put it before the tenant mixins."""

    required_modules: frozenset[str] = frozenset()

    def dispatch(self, request, *args, **kwargs):
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not uses_any(tenant, self.required_modules):
            raise Http404("This organisation does not use this module.")
        return super().dispatch(request, *args, **kwargs)


class TenantScopedMixin(TenantRequiredMixin):
    """Supplies the tenant's queryset of `model`: another tenant's object is a 404, never a 403
    that would confirm it exists."""

    model = None

    def get_queryset(self):
        return self.model.objects.for_tenant(self.request.tenant)


class TableOnlyResponse(HttpResponse):
    """A list view's answer to a request for its table alone (`request.table_only`)."""

    def __init__(self, table, view_name: str):
        super().__init__(status=200)
        self.table = table
        self.view_name = view_name


class FilteredTableView(TableFragmentMixin, TenantScopedMixin, TemplateView):
    """A django-filter form over a BaseTable. An HTMX request gets only the table region, so
    sorting, paging and filtering refresh the table; without JavaScript the links and the form
    reload the whole page with the same URL."""

    table_class = None
    filterset_class = None

    def get_filterset(self):
        return self.filterset_class(
            self.request.GET or None, queryset=self.get_queryset(), request=self.request
        )

    def get_table(self, queryset):
        return self.table_class.for_request(queryset, self.request)

    def get(self, request, *args, **kwargs):
        """A request for the table alone (tenancy.lists: an export, a saved view) gets the
        table this page would show, after the same checks, instead of the page; asked for
        some rows only (`request.table_ids`: a selection ticked on the page), those of them
        that the page's queryset and filter still hold."""
        if getattr(request, "table_only", False):
            rows = self.get_filterset().qs
            ids = getattr(request, "table_ids", None)
            if ids is not None:
                rows = rows.filter(pk__in=ids)
            return TableOnlyResponse(self.get_table(rows), request.resolver_match.view_name)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        context["filter"] = filterset
        context["table"] = self.get_table(filterset.qs)
        if not self.wants_table_fragment():  # the toolbar is the whole page's, not the table's
            context.update(saved_views_context(self.request))
            context["list_export_token"] = uuid.uuid4()  # one export per click (a double click)
        return context


def saved_views_context(request) -> dict:
    """What the list toolbar's saved views show: the list's views (each saying whether this
    operator may remove it) and the one the URL applies."""
    views = saved_views_for(request)
    for view in views:
        view.removable = saved_view_removable(view, request.membership)
    return {"saved_views": views, "saved_view": saved_view_applied(request)}

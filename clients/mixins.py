"""The view mixin of every page and action under a client (/clients/<number>/...), whichever
app it belongs to: General info, Subscriptions, Finance, Connection, Statistics, Names, the
edit, delete and hold actions.

It supplies the client named by the per-tenant number in the URL, from the tenant's scoped
queryset (another tenant's client is a 404, never a 403 that would confirm it exists), with
the related rows the page needs (`client_select_related`), and the context that every client
page's header and tabs read (`client_context()`: client, client_tabs, active_tab).

An app keeps what is its own as a small override: the tab it marks active (`active_tab`), a 404
for tenants that do not use the module (an extra mixin before this one), more related rows.
Dates show in the tenant's time zone on every portal page (TenantMiddleware).
"""

from django.shortcuts import get_object_or_404

from tenancy.mixins import TenantRequiredMixin

from .models import Client
from .tabs import client_tab_context


class ClientPageMixin(TenantRequiredMixin):
    nav_section = "clients"  # every tab of a client's page, whichever app serves it
    client_select_related: tuple[str, ...] = ("tenant",)
    active_tab: str | None = None  # None: the client page's default tab (General info)

    def get_client_queryset(self):
        queryset = Client.objects.for_tenant(self.request.tenant)
        if self.client_select_related:
            queryset = queryset.select_related(*self.client_select_related)
        return queryset

    def get_client(self) -> Client:
        if not hasattr(self, "_client"):
            self._client = get_object_or_404(
                self.get_client_queryset(), number=self.kwargs["number"]
            )
        return self._client

    def client_context(self, client: Client | None = None, active_tab: str | None = None) -> dict:
        return client_tab_context(
            self.request,
            client if client is not None else self.get_client(),
            active_tab=active_tab or self.active_tab,
        )

    def render_client_tab(self, view_class, status=400, **extra):
        """Another view of this client's tabs (the tab a refused POST came from), rendered with
        `extra` context (the form with its errors) and `status`: 400, nothing was changed."""
        view = view_class(request=self.request, args=(), kwargs=self.kwargs)
        view._client = self.get_client()
        context = view.get_context_data(**extra)
        return view.response_class(
            request=self.request, template=[view.template_name], context=context, status=status
        )

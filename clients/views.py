from django.views.generic import DetailView

from tenancy.mixins import FilteredTableView, TenantScopedMixin

from .filters import ClientFilterSet
from .models import Client
from .tables import ClientTable
from .tabs import client_tabs_for


class ClientListView(FilteredTableView):
    model = Client
    table_class = ClientTable
    filterset_class = ClientFilterSet
    template_name = "clients/client_list.html"


class ClientDetailView(TenantScopedMixin, DetailView):
    model = Client
    slug_field = "number"
    slug_url_kwarg = "number"
    template_name = "clients/client_detail.html"
    context_object_name = "client"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["client_tabs"] = client_tabs_for(self.request, self.object)
        return context

from django.views.generic import DetailView

from tenancy.mixins import FilteredTableView, TenantScopedMixin

from .filters import ClientFilterSet
from .models import Client
from .tables import ClientTable


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

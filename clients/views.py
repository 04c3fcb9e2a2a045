"""Client pages: the list (whole page, or only the table for HTMX), the search suggestions,
creating a client, and the client page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views import View
from django.views.generic import DetailView, FormView

from tenancy.mixins import FilteredTableView, TenantRequiredMixin, TenantScopedMixin
from tenancy.roles import Capability
from tenancy.views import form_errors_from

from .filters import SORT_CHOICES, ClientFilterSet
from .forms import ClientForm
from .models import Client
from .selectors import (
    SEARCH_MAX_LENGTH,
    client_suggestions,
    normalize_term,
    suggestions_wanted,
)
from .services import client_create
from .tables import ClientTable
from .tabs import client_tabs_for


class ClientListView(FilteredTableView):
    """The Clients section. An HTMX request for #table-region gets the table and, swapped out
    of band, the filter bar's messages and sort choice (so a bad date range is explained next
    to its field without a reload)."""

    model = Client
    table_class = ClientTable
    filterset_class = ClientFilterSet
    template_name = "clients/client_list.html"
    fragment_template_name = "clients/client_list_fragment.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            sort_choices=SORT_CHOICES, search_max_length=SEARCH_MAX_LENGTH, **kwargs
        )

    def get_queryset(self):
        # Columns the list never shows stay in the database (search_text is up to 1,000
        # characters a row).
        return super().get_queryset().defer("search_text")


class ClientSuggestView(TenantRequiredMixin, View):
    """The drop-down under the search box: the best few clients for what is typed so far."""

    def get(self, request):
        term = request.GET.get("q", "")
        suggestions = client_suggestions(tenant=request.tenant, value=term)
        response = render(
            request,
            "clients/client_suggestions.html",
            {
                "suggestions": suggestions,
                "term": normalize_term(term),
                "wanted": suggestions_wanted(normalize_term(term)),
            },
        )
        patch_vary_headers(response, ["HX-Request"])
        return response


class ClientCreateView(TenantRequiredMixin, FormView):
    required_capability = Capability.MANAGE_CLIENTS
    form_class = ClientForm
    template_name = "clients/client_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        context["form_sections"] = [
            {"title": title, "fields": [form[name] for name in names]}
            for title, names in ClientForm.SECTIONS
        ]
        return context

    def form_valid(self, form):
        try:
            client = client_create(
                tenant=self.request.tenant, actor=self.request.user, **form.service_data()
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Client #{client.number} {client.name} created.")
        return redirect(client)


class ClientDetailView(TenantScopedMixin, DetailView):
    model = Client
    slug_field = "number"
    slug_url_kwarg = "number"
    template_name = "clients/client_detail.html"
    context_object_name = "client"

    def get_queryset(self):
        return super().get_queryset().select_related("group")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["client_tabs"] = client_tabs_for(self.request, self.object)
        return context

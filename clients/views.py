"""Client pages: the list (whole page, or only the table for HTMX), the search suggestions,
creating a client, and the client page.

Decisions about the client list where the requirements were silent:
- Deleted clients are hidden whenever the status filter names no status, also with no
  parameters at all; ticking Deleted (alone or with others) shows them.
- A bad filter value (unknown status or client type, a date that is not one, a range whose
  start is after its end) is ignored with a message next to its field and above the table; an
  unknown sort or page size silently falls back (the default sort, the saved page size); a page
  number that is not one gives page 1, a page past the end gives the last page.
- The search box takes 100 characters; longer input is cut, not refused. Digits search the ID
  (exactly), the login and the ITN (by their start); text of 3 characters or more is found
  anywhere in name, company, login, ITN, e-mail and contact person, each word in any order;
  1-2 letters match the start of the name.
- Suggestions start at 3 letters or 1 digit, show 8 at most: the exact ID, then logins and
  ITNs starting with the digits, names starting with the text, then matches anywhere. Deleted
  clients are suggested too (with their badge): an operator looking one up by ID expects it.
- Sortable columns are those an index serves: ID, name (case-insensitive), creation date, last
  purchase date (and the balance, from billing). Never-bought clients are last either way.
- The create form has every field an operator types; the status is not among them (a new client
  is Active; holds and deletion have their own actions).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from core.views import InvalidFormStatusMixin, TableFragmentMixin, form_errors_from
from events.selectors import client_events
from tenancy.mixins import FilteredTableView, TenantRequiredMixin
from tenancy.modules import adds_clients_directly
from tenancy.roles import Capability

from .extensions import bulk_actions_for, deletion_blockers, page_select_related
from .filter_bar import ClientFilterBar
from .filters import ClientFilterSet
from .forms import ClientForm
from .mixins import ClientPageMixin
from .models import Client
from .page import client_page_context
from .selectors import (
    SEARCH_MAX_LENGTH,
    client_suggestions,
    normalize_term,
    suggestions_wanted,
)
from .services import client_create, client_delete, client_update
from .tables import ClientActivityTable, ClientTable


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
        context = super().get_context_data(search_max_length=SEARCH_MAX_LENGTH, **kwargs)
        context["filter_bar"] = ClientFilterBar(context["filter"])
        context["bulk_actions"] = bulk_actions_for(self.request.membership)
        return context

    def get_queryset(self):
        # Columns the list never shows stay in the database (search_text is up to 1,000
        # characters a row).
        return super().get_queryset().defer("search_text")


class ClientSuggestView(TenantRequiredMixin, View):
    """The drop-down under the search box: the best few clients for what is typed so far."""

    def get(self, request):
        value = request.GET.get("q", "")
        term = normalize_term(value)
        response = render(
            request,
            "clients/client_suggestions.html",
            {
                "suggestions": client_suggestions(tenant=request.tenant, value=value),
                "term": term,
                "wanted": suggestions_wanted(term),
            },
        )
        patch_vary_headers(response, ["HX-Request"])
        return response


class ClientCreateView(InvalidFormStatusMixin, TenantRequiredMixin, FormView):
    required_capability = Capability.MANAGE_CLIENTS
    form_class = ClientForm
    template_name = "clients/client_form.html"

    def dispatch(self, request, *args, **kwargs):
        """A reseller's customers are added by ordering a subscription for them."""
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not adds_clients_directly(tenant):
            return redirect("subscriptions:order")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form_sections"] = context["form"].sections()
        return context

    def form_valid(self, form):
        try:
            client = client_create(
                tenant=self.request.tenant, actor=self.request.user, **form.service_data()
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Client #%(number)s %(name)s created.")
            % {"number": client.number, "name": client.name},
        )
        return redirect(client)


class ClientDetailView(TableFragmentMixin, ClientPageMixin, DetailView):
    """The client page (General info): the blocks of clients.extensions, their related rows
    fetched with the client; its table region is the subscription history."""

    client_select_related = ("tenant", "group")
    template_name = "clients/client_detail.html"
    context_object_name = "client"

    def get_client_queryset(self):
        related = page_select_related(self.request.tenant)
        return super().get_client_queryset().select_related(*related)

    def get_object(self, queryset=None):
        return self.get_client()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.client_context(self.object))
        context.update(client_page_context(self.request, self.object))
        return context


# -- edit, delete, SMS subscription -----------------------------------------------------------
class ClientObjectMixin(ClientPageMixin):
    """The client page's actions (edit, delete, activity) show its client type."""

    client_select_related = ("tenant", "group")


class ClientEditView(InvalidFormStatusMixin, ClientObjectMixin, FormView):
    """Edit: every field of the client form; errors next to the fields, nothing saved."""

    required_capability = Capability.MANAGE_CLIENTS
    form_class = ClientForm
    template_name = "clients/client_edit.html"

    def dispatch(self, request, *args, **kwargs):
        if request.tenant is not None and request.membership.allows(self.required_capability):
            client = self.get_client()
            if client.is_deleted:
                messages.error(request, _("A deleted client cannot be edited."))
                return redirect(client)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        # A copy: the form writes its values onto its instance while validating.
        instance = Client.objects.for_tenant(self.request.tenant).get(pk=self.get_client().pk)
        return {**super().get_form_kwargs(), "tenant": self.request.tenant, "instance": instance}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.client_context(self.get_client()))
        context["form_sections"] = context["form"].sections()
        return context

    def form_valid(self, form):
        try:
            client = client_update(
                client=self.get_client(), actor=self.request.user, **form.service_data()
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("Client #%(number)s %(name)s saved.")
            % {"number": client.number, "name": client.name},
        )
        return redirect(client)


class ClientSmsSubscriptionView(ClientObjectMixin, View):
    """The SMS subscription checkbox with its Save button on the client page."""

    required_capability = Capability.MANAGE_CLIENTS
    http_method_names = ["post"]

    def post(self, request, number):
        client = self.get_client()
        wanted = request.POST.get("sms_subscription") in ("on", "true", "1")
        try:
            client = client_update(client=client, actor=request.user, sms_subscription=wanted)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if client.sms_subscription:
                messages.success(request, _("SMS subscription is on."))
            else:
                messages.success(request, _("SMS subscription is off."))
        return redirect(client)


class ClientDeleteView(ClientObjectMixin, TemplateView):
    """Delete: a confirmation page; refused with the reasons of the delete guards
    (clients.extensions; subscriptions: an active or suspended subscription) and their links.
    The client stays as a Deleted tombstone."""

    required_capability = Capability.MANAGE_CLIENTS
    template_name = "clients/client_confirm_delete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        client = self.get_client()
        context.update(self.client_context(client))
        context["blockers"] = deletion_blockers(client)
        return context

    def post(self, request, number):
        client = self.get_client()
        try:
            client = client_delete(
                client=client, actor=request.user, comment=request.POST.get("comment", "")[:200]
            )
        except ValidationError as error:
            context = self.get_context_data()
            context["error"] = " ".join(error.messages)
            return self.render_to_response(context, status=409)
        messages.success(
            request,
            _("Client #%(number)s %(name)s deleted. Its ledger and history are kept.")
            % {"number": client.number, "name": client.name},
        )
        return redirect(client)


class ClientActivityView(TableFragmentMixin, ClientObjectMixin, TemplateView):
    """The client's whole activity timeline, paged (the client page shows the latest lines)."""

    template_name = "clients/client_activity.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        client = self.get_client()
        lines = client_events(tenant=self.request.tenant, client_id=client.pk)
        context.update(self.client_context(client))
        context["table"] = ClientActivityTable.for_request(lines, self.request)
        return context

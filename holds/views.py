"""The dashboard, and the hold / release actions of the client page (thin: parse, call a
service, redirect)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from clients.mixins import ClientPageMixin
from clients.views import ClientDetailView
from core.jobs import job_runs_last
from subscriptions.models import tenant_today
from tenancy.mixins import TenantRequiredMixin
from tenancy.roles import Capability

from .forms import HoldReasonForm
from .models import HoldKind
from .selectors import clients_by_status, expiring_subscriptions, holds_set_today
from .services import client_place_hold, client_release_hold, operator_reason
from .tables import DASHBOARD_ROWS, ExpiringSubscriptionTable, HoldTable


def _first_rows(queryset) -> tuple[list, int]:
    """The first DASHBOARD_ROWS rows and the total, counted only when there are more."""
    rows = list(queryset[: DASHBOARD_ROWS + 1])
    if len(rows) <= DASHBOARD_ROWS:
        return rows, len(rows)
    return rows[:DASHBOARD_ROWS], queryset.count()


class DashboardView(TenantRequiredMixin, TemplateView):
    template_name = "holds/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = self.request.tenant
        today = tenant_today(tenant)
        expiring_rows, expiring_count = _first_rows(expiring_subscriptions(tenant, today))
        hold_rows, holds_count = _first_rows(holds_set_today(tenant, today))
        context.update(
            {
                "today": today,
                "statuses": clients_by_status(tenant),
                "expiring_table": ExpiringSubscriptionTable(expiring_rows),
                "expiring_more": expiring_count > len(expiring_rows),
                "expiring_count": expiring_count,
                "holds_table": HoldTable(hold_rows),
                "holds_count": holds_count,
                "job_runs": job_runs_last(tenant),
                "window": tenant.expiring_window_days,
            }
        )
        return context


class ClientHoldActionView(ClientPageMixin, View):
    """POST only: put the client on administrative hold, or release it, with a reason. Bad
    input changes nothing and says why on the client page."""

    required_capability = Capability.MANAGE_HOLDS
    http_method_names = ["post"]
    action = "place"

    def post(self, request, number):
        client = self.get_client()
        form = HoldReasonForm(request.POST)
        if not form.is_valid():
            return self.page_with_errors(request, number, form)
        service = client_place_hold if self.action == "place" else client_release_hold
        try:
            service(
                tenant=request.tenant,
                client=client,
                kind=HoldKind.ADMINISTRATIVE,
                reason=operator_reason(form.cleaned_data["reason"]),
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if self.action == "place":
                done = _("Client #%(number)s put on administrative hold.")
            else:
                done = _("Client #%(number)s released.")
            messages.success(request, done % {"number": client.number})
        return redirect(client)

    def page_with_errors(self, request, number, form):
        """The client page again (400), the error next to the reason field, nothing changed."""
        request.hold_form = form  # read by the Holds block (contributions.py)
        view = ClientDetailView()
        view.setup(request, number=number)
        response = view.get(request, number=number)
        response.status_code = 400
        return response

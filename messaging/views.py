"""The Statistics and Names tabs of the client page (messaging tenants only; elsewhere 404).

Who may do what (tenancy.roles): every role sees both tabs; exporting needs EXPORT (owner,
manager, accountant); adding, editing, approving, rejecting and blocking sender IDs needs
MANAGE_CLIENTS (owner, manager). Another tenant's client or sender ID is a 404.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView
from django_tables2 import RequestConfig

from clients.mixins import ClientPageMixin
from core.views import TableFragmentMixin, form_errors_from
from exports.views import export_started_response
from tenancy.mixins import ModuleRequiredMixin
from tenancy.modules import MESSAGING, modules_of
from tenancy.roles import Capability

from .exports import statistics_export_start
from .forms import (
    DEFAULT_EXPORT_COLUMNS,
    SenderDecisionForm,
    SenderIdForm,
    StatisticsExportForm,
    StatisticsPeriodForm,
)
from .models import SenderId
from .selectors import DEFAULT_REPORT, REPORTS, statistics_report
from .services import sender_id_create, sender_id_decide, sender_id_update
from .tables import SenderIdTable, StatisticsTable


class ClientMessagingMixin(ModuleRequiredMixin, ClientPageMixin):
    """The client of the URL, in a tenant that uses messaging (elsewhere a 404); dates in the
    tenant's zone."""

    required_modules = modules_of(MESSAGING)

    def tab_context(self, active: str) -> dict:
        return {
            **self.client_context(active_tab=active),
            "currency": self.request.tenant.currency,
        }


# -- Statistics -------------------------------------------------------------------------------
class ClientStatisticsView(ClientMessagingMixin, TemplateView):
    template_name = "messaging/client_statistics.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        client = self.get_client()
        report_key = request.GET.get("report") or DEFAULT_REPORT
        if report_key not in REPORTS:
            report_key = DEFAULT_REPORT
        form = StatisticsPeriodForm(request.GET, tenant=request.tenant)
        period = form.period
        channel = form.chosen_channel
        report = statistics_report(client=client, report=report_key, period=period, channel=channel)
        table = StatisticsTable(
            report.rows, group_label=report.kind.group_label, totals=report.totals
        )
        RequestConfig(request, paginate=False).configure(table)
        keep = {k: v for k, v in request.GET.items() if k in ("start", "end", "channel") and v}
        tabs = [
            {
                "key": kind.key,
                "label": kind.label,
                "url": f"{request.path}?{urlencode({**keep, 'report': kind.key})}",
            }
            for kind in REPORTS.values()
        ]
        can_export = request.membership.allows(Capability.EXPORT)
        context.update(self.tab_context("statistics"))
        context.update(
            report=report,
            report_tabs=tabs,
            form=form,
            period=period,
            channel=channel,
            table=table,
            chart=report.chart(),
            can_export=can_export,
        )
        if can_export:
            context.setdefault(
                "export_form",
                StatisticsExportForm(
                    initial={
                        "start": period.start,
                        "end": period.end,
                        "channel": channel,
                        "reports": [report_key],
                        "columns": DEFAULT_EXPORT_COLUMNS,
                        "token": uuid.uuid4(),
                    }
                ),
            )
        return context


class ClientStatisticsExportView(ClientMessagingMixin, View):
    """The export pop-up's POST: an export job (one sheet per chosen grouping) with progress.
    With HTMX the pop-up shows the job's progress bar; without, the Exports page does."""

    required_capability = Capability.EXPORT

    def post(self, request, number):
        client = self.get_client()
        form = StatisticsExportForm(request.POST)
        htmx = getattr(request, "htmx", None)
        if not form.is_valid():
            if htmx:
                return render(
                    request,
                    "messaging/includes/export_form.html",
                    {"export_form": form, "client": client},
                )
            return self.render_client_tab(
                ClientStatisticsView, export_form=form, export_failed=True
            )
        token = form.cleaned_data.get("token")
        job = statistics_export_start(
            client=client,
            chosen=form.cleaned_data,
            actor=request.user,
            idempotency_key=f"statistics-export:{token}" if token else None,
        )
        return export_started_response(request, job)


# -- Names ------------------------------------------------------------------------------------
class ClientNamesView(TableFragmentMixin, ClientMessagingMixin, TemplateView):
    template_name = "messaging/client_names.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        client = self.get_client()
        queryset = SenderId.objects.for_tenant(self.request.tenant).filter(client=client)
        context.update(self.tab_context("names"))
        context.update(
            table=SenderIdTable.for_request(queryset, self.request),
            can_manage=self.request.membership.allows(Capability.MANAGE_CLIENTS),
        )
        return context


class _SenderMixin(ClientMessagingMixin):
    required_capability = Capability.MANAGE_CLIENTS

    def get_sender(self) -> SenderId:
        return get_object_or_404(
            SenderId.objects.for_tenant(self.request.tenant).select_related("tenant"),
            client=self.get_client(),
            pk=self.kwargs["pk"],
        )

    def names_url(self) -> str:
        return reverse("messaging:client_names", kwargs={"number": self.get_client().number})


class SenderIdFormView(_SenderMixin, View):
    """Add (no pk) or edit a sender ID. Bad input: the form again with the error next to the
    field, status 400, nothing saved."""

    template_name = "messaging/sender_form.html"

    def get_instance(self):
        return self.get_sender() if "pk" in self.kwargs else None

    def render_form(self, form, status=200):
        context = self.tab_context("names")
        context.update(form=form, sender=self.get_instance(), names_url=self.names_url())
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, number, pk=None):
        client = self.get_client()
        return self.render_form(SenderIdForm(instance=self.get_instance(), client=client))

    def post(self, request, number, pk=None):
        client = self.get_client()
        instance = self.get_instance()
        form = SenderIdForm(request.POST, instance=instance, client=client)
        if form.is_valid():
            fields = {f: form.cleaned_data[f] for f in SenderIdForm.Meta.fields}
            try:
                if instance is None:
                    sender = sender_id_create(client=client, actor=request.user, **fields)
                    messages.success(
                        request,
                        _("Sender ID %(name)s added; it awaits approval.") % {"name": sender.name},
                    )
                else:
                    # The form wrote its input on `instance`; the service compares with the
                    # stored row, so it gets a fresh one (as RouterUpdateView does).
                    sender = sender_id_update(
                        sender=self.get_sender(), actor=request.user, **fields
                    )
                    messages.success(
                        request, _("Sender ID %(name)s saved.") % {"name": sender.name}
                    )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                return redirect(self.names_url())
        return self.render_form(form, status=400)


class SenderIdDecideView(_SenderMixin, View):
    """Approve, reject (with a reason) or block a sender ID."""

    def post(self, request, number, pk):
        sender = self.get_sender()
        form = SenderDecisionForm(request.POST)
        if form.is_valid():
            try:
                sender = sender_id_decide(
                    sender=sender,
                    status=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    _("Sender ID %(name)s is now %(status)s.")
                    % {"name": sender.name, "status": sender.get_status_display()},
                )
                return redirect(self.names_url())
        return self.render_client_tab(ClientNamesView, decision_form=form, decision_sender=sender)

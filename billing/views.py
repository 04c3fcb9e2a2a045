"""The Finance tab of the client page: balance and credit limit, "Set credit" and "Top up
account" forms, the period and the transactions table, and the export button.

Who may do what (tenancy.roles): owners and accountants top up (TOP_UP) and set the credit
limit (MANAGE_CREDIT). Managers may not: they place and release holds, and money in lifts a
financial hold, so keeping payments with the finance roles separates the duty of recording
money from the duty of deciding who is served. Managers may export (EXPORT); viewers see the
tab only.
"""

import uuid

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from clients.mixins import ClientPageMixin
from core.formatting import format_amount
from core.views import TableFragmentMixin
from exports.views import export_started_response
from tenancy.roles import Capability

from .exports import ledger_export_start
from .forms import CreditLimitForm, PeriodForm, TopUpForm
from .selectors import (
    account_or_empty,
    ledger_entries_for_period,
    period_balances,
    recent_credit_limit_changes,
)
from .services import LedgerError, account_for_client, account_set_credit_limit, account_top_up
from .tables import LedgerEntryTable


def credit_form_initial(account) -> dict:
    """What the credit form shows and compares a submission with: the stored limit."""
    return {"amount": account.credit_limit}


class ClientFinanceMixin(ClientPageMixin):
    """Dates show in the tenant's time zone (the period is in its days, too)."""

    client_select_related = ("tenant", "account")
    active_tab = "finance"

    def finance_url(self) -> str:
        url = reverse("billing:client_finance", kwargs={"number": self.get_client().number})
        query = self.request.GET.urlencode()
        return f"{url}?{query}" if query else url


class ClientFinanceView(TableFragmentMixin, ClientFinanceMixin, TemplateView):
    template_name = "billing/client_finance.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        client = self.get_client()
        account = account_or_empty(client=client)
        period_form = kwargs.get("period_form") or PeriodForm(request.GET, tenant=request.tenant)
        period = period_form.period
        membership = request.membership
        context.update(self.client_context(client))
        context.update(
            account=account,
            currency=request.tenant.currency,
            period_form=period_form,
            period=period,
            balances=period_balances(account=account, period=period),
            credit_changes=recent_credit_limit_changes(account=account),
            table=LedgerEntryTable.for_request(
                ledger_entries_for_period(account=account, period=period), request
            ),
            can_top_up=membership.allows(Capability.TOP_UP),
            can_set_credit=membership.allows(Capability.MANAGE_CREDIT),
            can_export=membership.allows(Capability.EXPORT),
            export_token=uuid.uuid4(),
        )
        if context["can_top_up"]:
            context.setdefault("top_up_form", TopUpForm())
        if context["can_set_credit"]:
            context.setdefault("credit_form", CreditLimitForm(initial=credit_form_initial(account)))
        return context


class _FinancePostView(ClientFinanceMixin, View):
    """A POST of one of the tab's forms: on success, redirect back to the tab (keeping the
    period); on bad input, the tab again with the error next to the field and nothing changed.
    A form that edits a stored value is filled from it on POST too, as on the page, so that a
    value left as shown is known as unchanged; a submission that changes nothing says so."""

    form_class = None
    form_context_name = ""
    replayed_message = ""  # an info message when the idempotency key was seen before
    unchanged_message = gettext_lazy("Nothing changed.")

    def stored_initial(self, client) -> dict:
        return {}

    def post(self, request, number):
        client = self.get_client()
        form = self.form_class(request.POST, initial=self.stored_initial(client))
        if form.is_valid():
            try:
                done = self.perform(form, account_for_client(client=client))
            except LedgerError as exc:
                form.add_error("amount", exc)
            else:
                if done is None:
                    messages.info(request, self.unchanged_message)
                elif done.replayed:
                    messages.info(request, self.replayed_message)
                else:
                    messages.success(request, self.success_message(done))
                return redirect(self.finance_url())
        return self.render_client_tab(
            ClientFinanceView, **{self.form_context_name: form, "form": form}
        )


class ClientTopUpView(_FinancePostView):
    required_capability = Capability.TOP_UP
    form_class = TopUpForm
    form_context_name = "top_up_form"
    replayed_message = gettext_lazy("This top-up was already recorded; it was not repeated.")

    def perform(self, form, account):
        return account_top_up(
            account=account,
            amount=form.cleaned_data["amount"],
            comment=form.cleaned_data["comment"],
            actor=self.request.user,
            idempotency_key=form.idempotency_key("top-up"),
        )

    def success_message(self, entry) -> str:
        return _("Account topped up by %(amount)s. New balance: %(balance)s.") % {
            "amount": format_amount(entry.amount),
            "balance": format_amount(entry.balance_after),
        }


class ClientSetCreditView(_FinancePostView):
    required_capability = Capability.MANAGE_CREDIT
    form_class = CreditLimitForm
    form_context_name = "credit_form"
    replayed_message = gettext_lazy("This change was already recorded.")
    unchanged_message = gettext_lazy(
        "Nothing changed: the credit limit is already set to this amount."
    )

    def stored_initial(self, client) -> dict:
        return credit_form_initial(account_or_empty(client=client))

    def perform(self, form, account):
        return account_set_credit_limit(
            account=account,
            credit_limit=form.cleaned_data["amount"],
            notify=form.cleaned_data["notify"],
            actor=self.request.user,
            idempotency_key=form.idempotency_key("credit"),
        )

    def success_message(self, change) -> str:
        amount = format_amount(change.new_limit)
        if change.notify:
            return _("Credit limit set to %(amount)s. The customer will be notified by e-mail.") % {
                "amount": amount
            }
        return _("Credit limit set to %(amount)s.") % {"amount": amount}


class ClientFinanceExportView(ClientFinanceMixin, View):
    """Queue an .xlsx of the period's transactions. With HTMX the progress appears in the tab;
    without, the Exports page shows it."""

    required_capability = Capability.EXPORT

    def post(self, request, number):
        client = self.get_client()
        period_form = PeriodForm(request.POST, tenant=request.tenant)
        if period_form.is_bound and not period_form.is_valid():
            return self.render_client_tab(ClientFinanceView, period_form=period_form)
        period = period_form.period
        sort = request.POST.get("sort")
        token = (request.POST.get("token") or "").strip()[:60]
        job = ledger_export_start(
            client=client,
            period=period,
            sort=sort,
            actor=request.user,
            idempotency_key=f"ledger-export:{token}" if token else None,
        )
        return export_started_response(request, job)

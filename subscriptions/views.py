"""Pages of packages and subscriptions. Thin: parse, call a service or selector, render.

Who may do what (tenancy.roles): MANAGE_SUBSCRIPTIONS (owners, managers) creates, edits and
retires packages, buys and cancels subscriptions (with the computed refund of the unused part:
the operator chooses whether to refund, not how much) and toggles auto-renew. Ordering a
subscription for a new client needs MANAGE_CLIENTS as well. Everyone else sees the pages.
Another tenant's package, subscription or client is a 404.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, FormView, TemplateView

from billing.selectors import account_or_empty
from billing.services import InsufficientFunds
from clients.mixins import ClientPageMixin
from clients.tabs import client_tab_context
from core.formatting import format_amount, format_date
from core.numbers import BIGINT_MAX, query_integer
from core.views import InvalidFormStatusMixin, TableFragmentMixin, form_errors_from
from tenancy.mixins import (
    FilteredTableView,
    ModuleRequiredMixin,
    TenantRequiredMixin,
    TenantScopedMixin,
)
from tenancy.modules import SUBSCRIPTIONS
from tenancy.roles import Capability

from .filters import PackageFilterSet, SubscriptionFilterSet
from .forms import AutoRenewForm, CancelForm, OrderForm, PackageForm, SubscriptionForm
from .models import LIVE_STATUSES, Package, Subscription, tenant_today
from .selectors import client_subscriptions, periods_ledger_entries, subscription_periods
from .services import (
    package_create,
    package_reactivate,
    package_retire,
    package_update,
    purchase_key,
    refund_amount,
    subscription_cancel,
    subscription_create,
    subscription_order,
    subscription_set_auto_renew,
    unused_days,
)
from .tables import PackageTable, SubscriptionTable, subscription_badge


class SubscriptionsEnabledMixin(ModuleRequiredMixin):
    """Packages and subscriptions exist only for the modules that sell them (others: 404)."""

    required_modules = SUBSCRIPTIONS


def _purchase_message(request, subscription) -> None:
    if getattr(subscription, "replayed", False):
        messages.info(request, _("This purchase was already recorded; nothing was charged again."))
        return
    charged = (
        _("%(amount)s charged.") % {"amount": format_amount(subscription.amount_paid)}
        if subscription.amount_paid
        else _("Free of charge.")
    )
    created = _(
        "Subscription %(package)s created for #%(number)s %(name)s, %(start)s – %(end)s."
    ) % {
        "package": subscription.package.name,
        "number": subscription.client.number,
        "name": subscription.client.name,
        "start": format_date(subscription.start_date),
        "end": format_date(subscription.end_date),
    }
    messages.success(request, f"{created} {charged}")


# -- packages ------------------------------------------------------------------------------
class PackageListView(SubscriptionsEnabledMixin, FilteredTableView):
    model = Package
    table_class = PackageTable
    filterset_class = PackageFilterSet
    template_name = "subscriptions/package_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .annotate(
                live_count=Count("subscriptions", filter=Q(subscriptions__status__in=LIVE_STATUSES))
            )
        )


class PackageFormView(
    SubscriptionsEnabledMixin, InvalidFormStatusMixin, TenantRequiredMixin, FormView
):
    required_capability = Capability.MANAGE_SUBSCRIPTIONS
    form_class = PackageForm
    template_name = "subscriptions/package_form.html"
    package = None

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "tenant": self.request.tenant}
        if self.package is not None:
            kwargs["instance"] = self.package
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(package=self.package, **kwargs)

    def form_valid(self, form):
        try:
            package = self.save(form)
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Package “%(name)s” saved.") % {"name": package.name})
        return redirect("subscriptions:package_list")


class PackageCreateView(PackageFormView):
    def save(self, form):
        return package_create(
            tenant=self.request.tenant, actor=self.request.user, **form.service_data()
        )


class PackageEditView(PackageFormView):
    def dispatch(self, request, *args, **kwargs):
        if request.tenant is not None:
            self.package = get_object_or_404(
                Package.objects.for_tenant(request.tenant), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def save(self, form):
        # The form has written its values onto self.package; the service re-reads the row.
        return package_update(package=self.package, actor=self.request.user, **form.service_data())


class PackageRetireView(SubscriptionsEnabledMixin, TenantScopedMixin, View):
    """POST: take the package off sale (or, with reactivate, back on sale)."""

    model = Package
    required_capability = Capability.MANAGE_SUBSCRIPTIONS
    http_method_names = ["post"]
    reactivate = False

    def post(self, request, pk):
        package = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            if self.reactivate:
                package = package_reactivate(package=package, actor=request.user)
                messages.success(
                    request, _("Package “%(name)s” is on sale again.") % {"name": package.name}
                )
            else:
                package = package_retire(package=package, actor=request.user)
                messages.success(
                    request,
                    _(
                        "Package “%(name)s” retired: it can no longer be bought; its "
                        "subscriptions keep running."
                    )
                    % {"name": package.name},
                )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("subscriptions:package_edit", pk=package.pk)


# -- a client's subscriptions --------------------------------------------------------------
class ClientMixin(SubscriptionsEnabledMixin, ClientPageMixin):
    active_tab = "subscriptions"


class ClientSubscriptionsView(TableFragmentMixin, ClientMixin, TemplateView):
    """The Subscriptions tab: every period of the client, filtered by status or package."""

    template_name = "subscriptions/client_subscriptions.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        client = self.get_client()
        filterset = SubscriptionFilterSet(
            self.request.GET or None,
            queryset=client_subscriptions(client=client),
            request=self.request,
        )
        context.update(
            self.client_context(client),
            filter=filterset,
            table=SubscriptionTable.for_request(filterset.qs, self.request),
        )
        return context


class SubscriptionCreateView(InvalidFormStatusMixin, ClientMixin, FormView):
    required_capability = Capability.MANAGE_SUBSCRIPTIONS
    form_class = SubscriptionForm
    template_name = "subscriptions/subscription_form.html"

    def get(self, request, *args, **kwargs):
        client = self.get_client()
        if client.is_deleted:
            messages.error(request, _("A deleted client cannot buy a subscription."))
            return redirect(client)
        return super().get(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        client = self.get_client()
        context.update(self.client_context(client), account=account_or_empty(client=client))
        return context

    def form_valid(self, form):
        client = self.get_client()
        try:
            subscription = subscription_create(
                tenant=self.request.tenant,
                client=client,
                package=form.cleaned_data["package"],
                start_date=form.cleaned_data["start_date"],
                auto_renew=form.cleaned_data["auto_renew"],
                actor=self.request.user,
                idempotency_key=purchase_key(form.cleaned_data["token"]),
            )
        except InsufficientFunds as error:
            form.add_error("package", error)
            return self.form_invalid(form)
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        _purchase_message(self.request, subscription)
        return redirect(client)


class OrderSubscriptionView(
    SubscriptionsEnabledMixin, InvalidFormStatusMixin, TenantRequiredMixin, FormView
):
    """Order subscription (Clients section): an existing client or a new one, then the
    package; the new client is created only if the purchase goes through."""

    required_capability = Capability.MANAGE_SUBSCRIPTIONS
    nav_section = "clients"  # ordered from the Clients section, as the seed says
    form_class = OrderForm
    template_name = "subscriptions/order_form.html"

    def get_form_kwargs(self):
        kwargs = {
            **super().get_form_kwargs(),
            "tenant": self.request.tenant,
            "can_take_payment": self.request.membership.allows(Capability.TOP_UP),
        }
        if self.request.method == "GET":
            initial = dict(kwargs.get("initial") or {})
            number = query_integer(self.request.GET.get("client"))
            if number is not None:
                initial["client_number"] = number
            package = query_integer(self.request.GET.get("package"), max_value=BIGINT_MAX)
            if package is not None:
                initial["package"] = package
            kwargs["initial"] = initial
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["client_sections"] = context["form"].client_form.sections()
        context["can_create_clients"] = self.request.membership.allows(Capability.MANAGE_CLIENTS)
        return context

    def form_valid(self, form):
        new = form.cleaned_data["who"] == OrderForm.NEW
        if new and not self.request.membership.allows(Capability.MANAGE_CLIENTS):
            raise PermissionDenied(_("Your role does not allow creating clients."))
        try:
            subscription = subscription_order(
                tenant=self.request.tenant,
                actor=self.request.user,
                package=form.cleaned_data["package"],
                start_date=form.cleaned_data["start_date"],
                auto_renew=form.cleaned_data["auto_renew"],
                client=None if new else form.client,
                new_client=form.client_form.service_data() if new else None,
                payment=form.cleaned_data.get("payment"),
                payment_comment=form.cleaned_data.get("payment_comment", ""),
                idempotency_key=purchase_key(form.cleaned_data["token"]),
            )
        except InsufficientFunds as error:
            form.add_error(
                "payment" if "payment" in form.fields else "package",
                f"{error.messages[0]} {self._funds_hint(form)} {_('Nothing was saved.')}",
            )
            return self.form_invalid(form)
        except ValidationError as error:
            form_errors_from(form, error, subforms=[form.client_form] if new else [])
            return self.form_invalid(form)
        _purchase_message(self.request, subscription)
        return redirect(subscription.client)

    def _funds_hint(self, form) -> str:
        if "payment" in form.fields:
            return _("Enter the payment received with the order (at least the difference).")
        return _("Ask an owner or accountant to take the payment, or to raise the credit limit.")


class SubscriptionMixin(SubscriptionsEnabledMixin, TenantScopedMixin):
    model = Subscription
    nav_section = "clients"  # a client's subscription, opened from the client's page

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "client",
                "package",
                "created_by",
                "cancelled_by",
                "charge_entry",
                "refund_entry",
            )
        )

    def get_subscription(self) -> Subscription:
        if not hasattr(self, "_subscription"):
            self._subscription = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return self._subscription


class SubscriptionDetailView(SubscriptionMixin, DetailView):
    """View subscription: its status, its periods (renewals) with amounts, and the ledger
    entries that paid and refunded them."""

    template_name = "subscriptions/subscription_detail.html"
    context_object_name = "subscription"

    def get_object(self, queryset=None):
        return self.get_subscription()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subscription = self.object
        tenant = self.request.tenant
        today = tenant_today(tenant)
        periods = list(subscription_periods(subscription=subscription)[:100])
        for period in periods:
            period.badge = subscription_badge(
                period.display_status(today, tenant.expiring_window_days)
            )
        context.update(
            **client_tab_context(self.request, subscription.client, active_tab="subscriptions"),
            badge=subscription_badge(
                subscription.display_status(today, tenant.expiring_window_days)
            ),
            periods=periods,
            entries=periods_ledger_entries(tenant=tenant, periods=periods),
            currency=tenant.currency,
            can_manage=self.request.membership.allows(Capability.MANAGE_SUBSCRIPTIONS),
            refund_preview=refund_amount(subscription, today) if subscription.is_live else None,
            unused=unused_days(subscription, today),
        )
        return context


class SubscriptionCancelView(InvalidFormStatusMixin, SubscriptionMixin, FormView):
    """Cancel subscription: a reason, and whether to refund the unused part (shown)."""

    required_capability = Capability.MANAGE_SUBSCRIPTIONS
    form_class = CancelForm
    template_name = "subscriptions/subscription_cancel.html"

    def get(self, request, *args, **kwargs):
        subscription = self.get_subscription()
        if not subscription.is_live:
            messages.info(
                request, _("This subscription is not active; there is nothing to cancel.")
            )
            return redirect(subscription)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subscription = self.get_subscription()
        today = tenant_today(self.request.tenant)
        context.update(
            subscription=subscription,
            **client_tab_context(self.request, subscription.client, active_tab="subscriptions"),
            refund_preview=refund_amount(subscription, today),
            unused=unused_days(subscription, today),
            currency=self.request.tenant.currency,
        )
        return context

    def form_valid(self, form):
        subscription = self.get_subscription()
        try:
            subscription = subscription_cancel(
                subscription=subscription,
                actor=self.request.user,
                reason=form.cleaned_data["reason"],
                refund=form.cleaned_data["refund"],
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        message = _("Subscription %(package)s cancelled.") % {"package": subscription.package.name}
        if subscription.refunded_amount:
            refunded = _("%(amount)s refunded to the balance.") % {
                "amount": format_amount(subscription.refunded_amount)
            }
            message = f"{message} {refunded}"
        messages.success(self.request, message)
        return redirect(subscription.client)


class SubscriptionAutoRenewView(SubscriptionMixin, View):
    """POST: turn auto-renew on or off."""

    required_capability = Capability.MANAGE_SUBSCRIPTIONS
    http_method_names = ["post"]

    def post(self, request, pk):
        subscription = self.get_subscription()
        form = AutoRenewForm(request.POST)
        if not form.is_valid():  # a BooleanField never fails; kept for symmetry
            raise Http404
        try:
            subscription = subscription_set_auto_renew(
                subscription=subscription,
                actor=request.user,
                auto_renew=form.cleaned_data["auto_renew"],
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if subscription.auto_renew:
                done = _("Auto-renew is on for %(package)s.")
            else:
                done = _("Auto-renew is off for %(package)s.")
            messages.success(request, done % {"package": subscription.package.name})
        target = request.POST.get("next")
        if target == "client":
            return redirect(subscription.client)
        return redirect(reverse("subscriptions:subscription_detail", kwargs={"pk": pk}))

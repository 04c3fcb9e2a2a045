"""The Routers page (list, create, edit, Test connection, Poll now), adopting a router's own
secrets, the PPPoE accounts list and the client's Connection tab. Thin: parse, call a service
or selector, render.

Who may do what: every role sees the pages; owners and managers (MANAGE_ROUTERS) add and change
routers and accounts, test connections and poll. Router passwords are never rendered back: the
password field is write-only and an empty one keeps the stored password."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from clients.mixins import ClientPageMixin
from core.formatting import format_count
from core.views import form_errors_from
from tenancy.mixins import FilteredTableView, ModuleRequiredMixin, TenantScopedMixin
from tenancy.modules import INTERNET, modules_of
from tenancy.roles import Capability

from .filters import PppoeAccountFilterSet, RouterFilterSet
from .forms import PppoeAccountForm, RouterForm, SecretAdoptionForm, adoption_selection_sign
from .models import PppoeAccount, Router, RouterAdoption
from .poller import poll_routers
from .routeros import RouterError
from .selectors import (
    account_of_client,
    adoption_proposals,
    client_package_profile,
    connection_of_account,
    router_secrets_read,
    routers_for_page,
)
from .services import (
    AdoptionRunning,
    pppoe_account_save,
    router_adoption_start,
    router_create,
    router_test_connection,
    router_update,
)
from .tables import PppoeAccountTable, RouterTable


class RoutersEnabledMixin(ModuleRequiredMixin):
    """The routers pages exist only for tenants that use routers (others get a 404)."""

    required_modules = modules_of(INTERNET)


class RouterListView(RoutersEnabledMixin, FilteredTableView):
    model = Router
    table_class = RouterTable
    filterset_class = RouterFilterSet
    template_name = "routers/router_list.html"

    def get_queryset(self):
        return routers_for_page(self.request.tenant)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            can_manage=self.request.membership.allows(Capability.MANAGE_ROUTERS), **kwargs
        )


class RouterFormMixin(RoutersEnabledMixin, TenantScopedMixin):
    model = Router
    required_capability = Capability.MANAGE_ROUTERS
    template_name = "routers/router_form.html"

    def get_router(self):
        return None

    def render_form(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "router": self.get_router()},
            status=status,
        )

    def get(self, request, *args, **kwargs):
        return self.render_form(RouterForm(instance=self.get_router()))

    def post(self, request, *args, **kwargs):
        router = self.get_router()
        form = RouterForm(request.POST, instance=router)
        if form.is_valid():
            try:
                router = self.save(form)
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("Router “%(name)s” saved.") % {"name": router.name})
                return redirect("routers:router_list")
        return self.render_form(form, status=400)


class RouterCreateView(RouterFormMixin, View):
    def save(self, form):
        data = form.service_data()
        return router_create(tenant=self.request.tenant, actor=self.request.user, **data)


class RouterUpdateView(RouterFormMixin, View):
    def get_router(self):
        if not hasattr(self, "_router"):
            self._router = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return self._router

    def save(self, form):
        # ModelForm validation already assigned the fields to the instance; reload it so that
        # the service starts from the stored row.
        router = Router.objects.for_tenant(self.request.tenant).get(pk=self.get_router().pk)
        return router_update(router=router, actor=self.request.user, **form.service_data())


class RouterTestView(RoutersEnabledMixin, TenantScopedMixin, View):
    """Test connection: the identity and version, or the error in plain words. With HTMX only
    the result fragment is returned."""

    model = Router
    required_capability = Capability.MANAGE_ROUTERS

    def post(self, request, pk):
        router = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            identity, version = router_test_connection(router=router)
            result = {"ok": True, "identity": identity, "version": version}
        except RouterError as error:
            result = {"ok": False, "error": error.message}
        if request.htmx:
            response = render(
                request, "routers/test_result.html", {"router": router, "result": result}
            )
            patch_vary_headers(response, ["HX-Request"])
            return response
        if result["ok"]:
            messages.success(
                request,
                _("Connected to “%(name)s”: identity %(identity)s, RouterOS %(version)s.")
                % {"name": router.name, "identity": identity, "version": version},
            )
        else:
            messages.error(
                request,
                _("Could not connect to “%(name)s”: %(error)s")
                % {"name": router.name, "error": result["error"]},
            )
        return redirect("routers:router_edit", pk=router.pk)


class RouterPollView(RoutersEnabledMixin, TenantScopedMixin, View):
    """Poll now: one router, at once (the same cycle as the minute's poll)."""

    model = Router
    required_capability = Capability.MANAGE_ROUTERS

    def post(self, request, pk):
        router = get_object_or_404(self.get_queryset(), pk=pk)
        report = poll_routers([router.pk], deadline_seconds=3 * router.timeout + 5)
        if report.skipped:
            messages.info(
                request, _("“%(name)s” is being polled right now.") % {"name": router.name}
            )
        elif router.pk in report.errors:
            messages.error(
                request,
                _("“%(name)s”: %(error)s")
                % {"name": router.name, "error": report.errors[router.pk]},
            )
        elif report.polled:
            messages.success(request, _("“%(name)s” polled.") % {"name": router.name})
        else:
            messages.info(
                request, _("“%(name)s” is disabled and was not polled.") % {"name": router.name}
            )
        return redirect("routers:router_list")


# -- the adoption's counted sentences: whole sentences per case, so that 1, 2 and 5 read right
def adoption_all_label(count: int) -> str:
    """The box that ticks every adoptable secret."""
    return ngettext(
        "Select the one secret that can be adopted",
        "Select all %(shown)s secrets that can be adopted",
        count,
    ) % {"shown": format_count(count)}


def adoption_summary(*, chosen: int, new_clients: int, on_hold: int) -> list[str]:
    """What confirming will do: how the secrets are adopted, then what the router gets."""
    shown = {"shown": format_count(chosen)}
    if new_clients == chosen:
        how = (
            ngettext(
                "%(shown)s secret will be adopted as a new client.",
                "%(shown)s secrets will be adopted as new clients.",
                chosen,
            )
            % shown
        )
    elif new_clients == 0:
        how = (
            ngettext(
                "%(shown)s secret will be adopted as the PPPoE account of the client shown.",
                "%(shown)s secrets will be adopted as the PPPoE accounts of the clients shown.",
                chosen,
            )
            % shown
        )
    else:
        existing = chosen - new_clients
        how = " ".join(
            (
                ngettext(
                    "%(shown)s secret will be adopted:",
                    "%(shown)s secrets will be adopted:",
                    chosen,
                )
                % shown,
                ngettext("%(shown)s as a new client,", "%(shown)s as new clients,", new_clients)
                % {"shown": format_count(new_clients)},
                ngettext(
                    "%(shown)s as the PPPoE account of the client shown.",
                    "%(shown)s as the PPPoE accounts of the clients shown.",
                    existing,
                )
                % {"shown": format_count(existing)},
            )
        )
    if on_hold == 0:
        router = _("The router is not changed.")
    elif on_hold == chosen:
        router = ngettext(
            "Its client is on hold: the secret will be disabled on the router.",
            "All %(shown)s clients are on hold: their secrets will be disabled on the router.",
            on_hold,
        ) % {"shown": format_count(on_hold)}
    else:
        router = ngettext(
            "%(shown)s client is on hold: its secret will be disabled on the router; nothing "
            "else on the router changes.",
            "%(shown)s clients are on hold: their secrets will be disabled on the router; "
            "nothing else on the router changes.",
            on_hold,
        ) % {"shown": format_count(on_hold)}
    return [how, router]


def adoption_outcome(job: RouterAdoption) -> list[str]:
    """What the adoption did (so far, while it runs or once it failed)."""
    adopted, created = len(job.adopted), job.clients_created
    if adopted == 0:
        lines = [_("No secret was adopted.")]
    elif created == 0:
        lines = [
            ngettext("%(shown)s secret adopted.", "%(shown)s secrets adopted.", adopted)
            % {"shown": format_count(adopted)}
        ]
    else:
        lines = [
            ngettext("%(shown)s secret adopted,", "%(shown)s secrets adopted,", adopted)
            % {"shown": format_count(adopted)}
            + " "
            + ngettext(
                "%(shown)s of them as a new client.", "%(shown)s of them as new clients.", created
            )
            % {"shown": format_count(created)}
        ]
    if job.gone:
        lines.append(
            ngettext(
                "%(shown)s selected secret was no longer the router's own (adopted already, or "
                "removed from the router).",
                "%(shown)s selected secrets were no longer the router's own (adopted already, "
                "or removed from the router).",
                job.gone,
            )
            % {"shown": format_count(job.gone)}
        )
    return lines


class RouterAdoptView(RoutersEnabledMixin, TenantScopedMixin, View):
    """Adopt the secrets already on a router, in three steps on one URL: the list of the
    router's /ppp/secret entries that no account owns, read live, each with its proposed
    client or the reason it is refused (GET); what adopting the ticked ones (or all) will do
    (POST); the confirmation of exactly the secrets reviewed (POST with `confirm` and the
    reviewed ids), which starts their adoption as a job and leads to its progress and
    outcome (RouterAdoptionView). Nothing is adopted before that last step. Who may: as for editing
    PPPoE accounts (MANAGE_ROUTERS), for the whole page, since it reads the router.

    The list is a live reading of the router, a form of check boxes rather than a stored list:
    it has no sort, paging or column chooser, and is a plain table, not a BaseTable. A router
    that cannot be read answers the page with the reason, and nothing is adopted."""

    model = Router
    required_capability = Capability.MANAGE_ROUTERS
    template_name = "routers/router_adopt.html"

    def get(self, request, pk):
        router = get_object_or_404(self.get_queryset(), pk=pk)
        return self.select_step(router)

    def post(self, request, pk):
        router = get_object_or_404(self.get_queryset(), pk=pk)
        if request.POST.get("confirm"):
            form = SecretAdoptionForm(request.POST, router=router)
            if not form.is_valid():
                return self.select_step(router, refused=form)
            return self.adopt(router, form)
        return self.select_step(router, data=request.POST)

    def render_step(self, router, step: str, status: int = 200, **context):
        return render(
            self.request,
            self.template_name,
            {"router": router, "step": step, **context},
            status=status,
        )

    def select_step(self, router, data=None, refused=None):
        """The list (GET, a refused selection or a refused confirmation, whose errors it shows),
        or the review of a valid selection, which carries its secrets' ids to the confirmation
        in one signed field."""
        try:
            secrets = router_secrets_read(router)
        except RouterError as error:
            return self.render_step(router, "unreachable", error=error.message)
        proposals = adoption_proposals(tenant=self.request.tenant, router=router, secrets=secrets)
        adoptable = [p for p in proposals if p.adoptable]
        ids = [p.secret.secret_id for p in adoptable]
        form = refused or SecretAdoptionForm(data, router=router, secret_ids=ids)
        if refused is not None or data is None or not form.is_valid():
            status = 200 if data is None and refused is None else 400
            context = {
                "form": form,
                "proposals": proposals,
                "adoptable": len(adoptable),
                "all_label": adoption_all_label(len(adoptable)),
            }
            return self.render_step(router, "select", status=status, **context)
        chosen = form.chosen_ids
        if chosen is not None:
            adoptable = [p for p in adoptable if p.secret.secret_id in set(chosen)]
        return self.render_step(
            router,
            "confirm",
            chosen=adoptable,
            selection=adoption_selection_sign(router, [p.secret.secret_id for p in adoptable]),
            summary=adoption_summary(
                chosen=len(adoptable),
                new_clients=sum(1 for p in adoptable if p.client is None),
                on_hold=sum(1 for p in adoptable if p.client_on_hold),
            ),
        )

    def adopt(self, router, form):
        """Start the adoption of the reviewed secrets as a job and show its progress; while
        one of this router runs, say so and show that one instead of starting another."""
        try:
            job = router_adoption_start(
                tenant=self.request.tenant,
                router=router,
                actor=self.request.user,
                secret_ids=form.reviewed_ids,
            )
        except AdoptionRunning as running:
            messages.warning(
                self.request,
                _(
                    "An adoption of this router's secrets is already under way: its progress "
                    "is below. Review the secrets again once it is done."
                ),
            )
            return redirect(running.job.get_absolute_url())
        return redirect(job.get_absolute_url())


class RouterAdoptionView(RoutersEnabledMixin, TenantScopedMixin, View):
    """An adoption of a router's secrets: its progress while its job runs (polled by HTMX:
    only the progress fragment), then its outcome. Who may: as for starting it
    (MANAGE_ROUTERS); another tenant's router or adoption, or an adoption of another router,
    is a 404."""

    model = Router
    required_capability = Capability.MANAGE_ROUTERS
    template_name = "routers/router_adoption.html"
    fragment_template_name = "routers/includes/adoption_progress.html"

    def get(self, request, pk, adoption):
        router = get_object_or_404(self.get_queryset(), pk=pk)
        job = get_object_or_404(
            RouterAdoption.objects.for_tenant(request.tenant), pk=adoption, router=router
        )
        template = self.fragment_template_name if request.htmx else self.template_name
        context = {"router": router, "job": job, "outcome": adoption_outcome(job)}
        response = render(request, template, context)
        patch_vary_headers(response, ["HX-Request"])
        response["Cache-Control"] = "no-store"
        return response


class PppoeAccountListView(RoutersEnabledMixin, FilteredTableView):
    model = PppoeAccount
    table_class = PppoeAccountTable
    filterset_class = PppoeAccountFilterSet
    template_name = "routers/account_list.html"


class ClientConnectionView(RoutersEnabledMixin, ClientPageMixin, TemplateView):
    """The client's Connection tab: the connection details and the account form."""

    template_name = "routers/client_connection.html"
    client_select_related = ()
    active_tab = "connection"

    def get_account(self):
        if not hasattr(self, "_account"):
            self._account = account_of_client(self.get_client())
        return self._account

    def get_form(self, data=None):
        account = self.get_account()
        if account is None:
            initial = {"profile": client_package_profile(self.get_client())}
        else:
            initial = {
                "router": account.router_id,
                "username": account.username,
                "profile": account.profile,
            }
        return PppoeAccountForm(data, tenant=self.request.tenant, account=account, initial=initial)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        request = self.request
        client = self.get_client()
        can_manage = request.membership.allows(Capability.MANAGE_ROUTERS)
        context.update(self.client_context(client))
        context.update(
            connection=connection_of_account(self.get_account()),
            can_manage=can_manage,
            has_routers=Router.objects.for_tenant(request.tenant).exists(),
        )
        if can_manage:
            context.setdefault("form", self.get_form())
        return context

    def post(self, request, number):
        if not request.membership.allows(Capability.MANAGE_ROUTERS):
            raise PermissionDenied(_("Your role does not allow this."))
        client = self.get_client()
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                pppoe_account_save(
                    tenant=request.tenant,
                    client=client,
                    router=form.cleaned_data["router"],
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"] or None,
                    profile=form.cleaned_data["profile"],
                    actor=request.user,
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(
                    request,
                    _("PPPoE account %(username)s saved; it is being set up on the router.")
                    % {"username": form.cleaned_data["username"]},
                )
                return redirect(reverse("routers:client_connection", kwargs={"number": number}))
        context = self.get_context_data(form=form)
        return self.render_to_response(context, status=400)

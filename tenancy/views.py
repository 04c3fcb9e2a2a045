from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView

from access.selectors import has_second_factor_subquery
from core.languages import language_remembered
from core.views import InvalidFormStatusMixin, form_errors_from, safe_next

from .filters import ApiTokenFilterSet, MembershipFilterSet
from .forms import (
    AccountForm,
    ApiTokenForm,
    LanguageForm,
    OperatorCreateForm,
    OperatorUpdateForm,
    SavedViewForm,
    TablePreferencesForm,
    TenantSecurityForm,
)
from .lists import list_view_table
from .middleware import SESSION_TENANT_KEY
from .mixins import FilteredTableView, TenantRequiredMixin, TenantScopedMixin
from .models import ApiToken, Membership
from .roles import Capability
from .selectors import saved_views_visible_to
from .services import (
    account_update,
    api_token_create,
    api_token_revoke,
    identity_is_shared,
    membership_save_preference,
    operator_create,
    operator_language_get,
    operator_language_set,
    operator_update,
    saved_view_create,
    saved_view_delete,
    tenant_security_update,
)
from .tables import PER_PAGE_CHOICES, TABLE_REGISTRY, ApiTokenTable, MembershipTable


class PasswordChangeView(InvalidFormStatusMixin, auth_views.PasswordChangeView):
    """Django's password change, answering a refused change with 400 like every other form."""


class HomeView(View):
    """Where a login lands: the client list, or the administration for a superuser who is no
    operator of any tenant (rather than a page that refuses them)."""

    def get(self, request):
        if request.tenant is None and request.user.is_superuser:
            return redirect("admin:index")
        if request.tenant is None:
            return render(request, "tenancy/no_tenant.html", status=403)
        return redirect("clients:client_list")


class TenantSwitchView(View):
    """Switch the current tenant among the operator's memberships."""

    http_method_names = ["post"]

    def post(self, request):
        try:
            tenant_id = int(request.POST.get("tenant", ""))
        except ValueError:
            raise Http404("No such tenant.") from None
        membership = next((m for m in request.memberships if m.tenant_id == tenant_id), None)
        if membership is None:
            raise Http404("No such tenant.")
        request.session[SESSION_TENANT_KEY] = membership.tenant_id
        messages.success(
            request, _("Now working in %(tenant)s.") % {"tenant": membership.tenant.name}
        )
        return redirect("home")


class TablePreferencesView(TenantRequiredMixin, View):
    """Saves a table's columns and page size for this operator (a plain POST)."""

    http_method_names = ["post"]

    def post(self, request, table_name: str):
        table_class = TABLE_REGISTRY.get(table_name)
        if table_class is None:
            raise Http404("No such table.")
        form = TablePreferencesForm(
            request.POST, table_class=table_class, per_page_choices=PER_PAGE_CHOICES
        )
        if not form.is_valid():
            return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
        if "columns" in request.POST or request.POST.get("save_columns"):
            membership_save_preference(
                membership=request.membership,
                key=table_class.preference_key("columns"),
                value=form.cleaned_data["columns"],
            )
        if form.cleaned_data.get("per_page"):
            membership_save_preference(
                membership=request.membership,
                key="pagination.per_page",
                value=form.cleaned_data["per_page"],
            )
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Trigger": "table-preferences-saved"})
        return HttpResponseRedirect(safe_next(request, reverse("home")))


class OperatorListView(FilteredTableView):
    model = Membership
    required_capability = Capability.MANAGE_OPERATORS
    table_class = MembershipTable
    filterset_class = MembershipFilterSet
    template_name = "tenancy/operator_list.html"

    def get_queryset(self):
        """Each operator with whether they use a second factor (the owner who requires it
        sees who has not set it up yet)."""
        return super().get_queryset().annotate(has_two_factor=has_second_factor_subquery())


class OperatorCreateView(InvalidFormStatusMixin, TenantRequiredMixin, FormView):
    required_capability = Capability.MANAGE_OPERATORS
    form_class = OperatorCreateForm
    template_name = "tenancy/operator_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            membership = operator_create(
                tenant=self.request.tenant,
                actor=self.request.user,
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                role=data["role"],
                password=data["password1"],
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Operator %(login)s added.") % {"login": membership.user.username}
        )
        return redirect("tenancy:operator_list")


class OperatorUpdateView(InvalidFormStatusMixin, TenantScopedMixin, FormView):
    model = Membership
    required_capability = Capability.MANAGE_OPERATORS
    form_class = OperatorUpdateForm
    template_name = "tenancy/operator_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.membership = None
        return super().dispatch(request, *args, **kwargs)

    def get_membership(self) -> Membership:
        if self.membership is None:
            self.membership = get_object_or_404(
                self.get_queryset().select_related("user"), pk=self.kwargs["pk"]
            )
        return self.membership

    def get_initial(self):
        membership = self.get_membership()
        user = membership.user
        return {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "role": membership.role,
            "is_active": membership.is_active,
        }

    def get_form_kwargs(self):
        shared = identity_is_shared(self.get_membership())
        return {**super().get_form_kwargs(), "identity_shared": shared}

    def get_context_data(self, **kwargs):
        return super().get_context_data(operator=self.get_membership(), **kwargs)

    def form_valid(self, form):
        membership = self.get_membership()
        try:
            operator_update(membership=membership, actor=self.request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Operator %(login)s saved.") % {"login": membership.user.username}
        )
        return redirect("tenancy:operator_list")


class TenantSecurityView(InvalidFormStatusMixin, TenantRequiredMixin, FormView):
    """The tenant's sign-in rules (owners only): whether every operator needs two-factor
    authentication. The tenant's other settings are a superuser's, in the admin."""

    required_capability = Capability.MANAGE_OPERATORS
    form_class = TenantSecurityForm
    template_name = "tenancy/tenant_security.html"

    def get_initial(self):
        return {"require_two_factor": self.request.tenant.require_two_factor}

    def form_valid(self, form):
        try:
            changed = tenant_security_update(
                tenant=self.request.tenant, actor=self.request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Sign-in rules saved.") if changed else _("Nothing changed.")
        )
        return redirect("tenancy:tenant_security")


class AccountView(InvalidFormStatusMixin, FormView):
    """My account: the signed-in person edits their own name and e-mail, which every tenant
    they work in shows (an owner edits only what belongs to their tenant)."""

    form_class = AccountForm
    template_name = "tenancy/account_form.html"

    def get_initial(self):
        user = self.request.user
        return {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "language": operator_language_get(user),
        }

    def form_valid(self, form):
        data = dict(form.cleaned_data)
        language = data.pop("language", "")
        account_update(user=self.request.user, **data)
        operator_language_set(user=self.request.user, language=language)
        language_activate(self.request, language)
        messages.success(self.request, _("Your details are saved."))
        return language_remembered(redirect("account"), language)


def language_activate(request, language: str) -> None:
    """The answer to the request that chose `language` speaks it already (its flash message)."""
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


class LanguageView(InvalidFormStatusMixin, FormView):
    """The user menu's language switcher (a plain POST, no script needed): stores the person's
    own language (every tenant, every later sign-in), sets the language cookie and goes back to
    the page it was chosen on. GET shows the same choice as a small page."""

    form_class = LanguageForm
    template_name = "tenancy/language_form.html"

    def get_initial(self):
        return {
            "language": operator_language_get(self.request.user) or translation.get_language(),
            "next": self.request.GET.get("next", ""),
        }

    def form_valid(self, form):
        language = operator_language_set(
            user=self.request.user, language=form.cleaned_data["language"]
        )
        language_activate(self.request, language)
        return language_remembered(
            HttpResponseRedirect(safe_next(self.request, reverse("account"))), language
        )


# -- API tokens --------------------------------------------------------------------------------
class ApiTokenListView(FilteredTableView):
    """The tenant's API tokens (owners only): when each was last used, and revocation."""

    model = ApiToken
    required_capability = Capability.MANAGE_API_TOKENS
    table_class = ApiTokenTable
    filterset_class = ApiTokenFilterSet
    template_name = "tenancy/api_token_list.html"
    nav_section = "api_tokens"


class ApiTokenCreateView(InvalidFormStatusMixin, TenantRequiredMixin, FormView):
    """Create a token and show its secret once, on this answer only (never in a URL, a
    message or the session)."""

    required_capability = Capability.MANAGE_API_TOKENS
    form_class = ApiTokenForm
    template_name = "tenancy/api_token_form.html"
    nav_section = "api_tokens"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "tenant": self.request.tenant}

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            issued = api_token_create(
                tenant=self.request.tenant,
                actor=self.request.user,
                name=data["name"],
                scope=data["scope"],
                expires_at=end_of_day(data["expires_on"], self.request.tenant),
            )
        except ValidationError as error:
            form_errors_from(form, error)
            return self.form_invalid(form)
        response = render(
            self.request, "tenancy/api_token_created.html", {"issued": issued}, status=201
        )
        response["Cache-Control"] = "no-store"
        return response


def end_of_day(day, tenant):
    """The moment a token valid until `day` (in the tenant's time zone) stops working."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=tenant.zone)


class ApiTokenRevokeView(TenantScopedMixin, View):
    model = ApiToken
    required_capability = Capability.MANAGE_API_TOKENS
    http_method_names = ["post"]

    def post(self, request, pk):
        token = api_token_revoke(
            token=get_object_or_404(self.get_queryset(), pk=pk), actor=request.user
        )
        messages.success(
            request, _("Token %(name)s revoked; it no longer works.") % {"name": token.name}
        )
        return redirect("tenancy:api_token_list")


# -- saved views of lists ------------------------------------------------------------------------
class SavedViewCreateView(TenantRequiredMixin, View):
    """Save the list the form was sent from, as that list shows it to this operator now (its
    filter and sort from its URL; its columns and page size as the list itself chose them),
    then open the saved view. A refused name is shown next to its field (400)."""

    http_method_names = ["post"]

    def post(self, request):
        form = SavedViewForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            listed = list_view_table(
                path=data["list_path"],
                query=data["list_query"],
                user=request.user,
                tenant=request.tenant,
                membership=request.membership,
            )
            try:
                view = saved_view_create(
                    tenant=request.tenant,
                    actor=request.membership,
                    list_name=listed.view_name,
                    name=data["name"],
                    query=data["list_query"],
                    columns=[bound.name for bound, _header in listed.table.data_columns()],
                    per_page=listed.table.current_per_page,
                    shared=data["shared"],
                )
            except ValidationError as error:
                form_errors_from(form, error)
            else:
                messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
                return redirect(view)
        back = form.data.get("list_path", "")
        context = {"form": form, "back": back if back.startswith("/") else reverse("home")}
        return render(request, "tenancy/saved_view_form.html", context, status=400)


class SavedViewOpenView(TenantRequiredMixin, View):
    """A saved view's URL: its list with its filter, sort, page size and columns."""

    def get(self, request, pk):
        view = get_object_or_404(saved_views_visible_to(request.membership), pk=pk)
        try:
            target = reverse(view.list_name)
        except NoReverseMatch:
            raise Http404("This list no longer exists.") from None
        query = QueryDict(view.query, mutable=True)
        if view.per_page:
            query["per_page"] = str(view.per_page)
        query["view"] = str(view.pk)
        return HttpResponseRedirect(f"{target}?{query.urlencode()}")


class SavedViewDeleteView(TenantRequiredMixin, View):
    """Remove a saved view (its owner; an owner of the tenant for a shared one)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        view = get_object_or_404(saved_views_visible_to(request.membership), pk=pk)
        saved_view_delete(view=view, actor=request.membership)
        messages.success(request, _("View “%(name)s” removed.") % {"name": view.name})
        try:
            fallback = reverse(view.list_name)
        except NoReverseMatch:
            fallback = reverse("home")
        return HttpResponseRedirect(safe_next(request, fallback))

"""The client list's bulk actions: the confirmation step (what the action needs: a reason, a
client type, a comment; how many clients it touches) and the result page (done, unchanged and
refused clients, each refused one with its reason, with a progress bar while a job runs). Thin:
the rules are in clients/bulk.py and the actions' services.

The list posts its selection here (the ticked rows' ids, or "all matching" with the list's query
string), with the action chosen; the confirmation posts it again with `confirm`. A role that may
not do the single action gets a 403 for the bulk one; another tenant's ids select nothing; a
bad selection or parameter is refused next to its field (400) and changes nothing.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from core.numbers import parse_integer
from core.stored_text import Count, StoredText, render_param, stored_ngettext
from core.views import form_errors_from
from tenancy.mixins import TenantRequiredMixin
from tenancy.tables import BaseTable

from .bulk import (
    COMMENT_MAX,
    QUERY_MAX,
    TICKED_MAX,
    bulk_action_for,
    bulk_selection_clients,
    bulk_selection_of,
    client_bulk_action_start,
)
from .extensions import BULK_ACTIONS
from .models import ClientBulkAction, ClientGroup

SCOPE_TICKED, SCOPE_ALL = "ticked", "all"
REASON_MAX = 500  # the hold's reason, as holds checks it
REFUSED_SHOWN = 1000  # refused clients listed on the page


def refused_rows(job: ClientBulkAction) -> list[dict]:
    """The refused clients shown, each reason in the reader's language: a stored message
    rendered now; a row written before messages holds its English sentence, translated as a
    msgid (what the page did with it then)."""
    rows = []
    for row in job.refused[:REFUSED_SHOWN]:
        reason = row.get("reason", "")
        shown = _(reason) if isinstance(reason, str) and reason else render_param(reason)
        rows.append({**row, "reason": shown})
    return rows


class ClientIdsField(forms.Field):
    """The ids of the rows ticked: whole numbers, at most one page of them."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        values = value if isinstance(value, list | tuple) else [value] if value else []
        if len(values) > TICKED_MAX:
            raise ValidationError(
                _("Tick at most %(limit)s clients, or choose all matching this filter.")
                % {"limit": TICKED_MAX}
            )
        try:
            return [parse_integer(v, min_value=1) for v in values]
        except ValidationError:
            raise ValidationError(_("Tick clients of the list."), code="invalid") from None


class ClientBulkActionForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Action"))
    scope = forms.ChoiceField(
        label=gettext_lazy("Clients"),
        choices=[
            (SCOPE_TICKED, gettext_lazy("The clients ticked")),
            (SCOPE_ALL, gettext_lazy("All matching this filter")),
        ],
        initial=SCOPE_TICKED,
    )
    client = ClientIdsField(required=False)
    query = forms.CharField(
        required=False, max_length=QUERY_MAX, strip=False, widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": REASON_MAX}),
    )
    group = forms.ModelChoiceField(
        label=gettext_lazy("Client type"),
        queryset=ClientGroup.objects.none(),
        required=False,
        empty_label=gettext_lazy("No client type"),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.TextInput(attrs={"maxlength": COMMENT_MAX}),
    )

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.fields["action"].choices = [(a.name, a.label) for a in BULK_ACTIONS.for_tenant(tenant)]
        self.fields["group"].queryset = ClientGroup.objects.for_tenant(tenant).order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("scope") == SCOPE_TICKED and "client" in data and not data["client"]:
            self.add_error(
                "client", _("Tick at least one client, or choose all matching this filter.")
            )
        return data

    def selection(self) -> dict:
        if self.cleaned_data["scope"] == SCOPE_ALL:
            return bulk_selection_of(query=self.cleaned_data.get("query") or "")
        return bulk_selection_of(ids=self.cleaned_data["client"])


def bulk_title(action, count: int) -> StoredText:
    """What the result page and the job list call the action ("Delete: 5 clients"), read in
    each reader's language."""
    return stored_ngettext(
        "%(action)s: %(count)s client",
        "%(action)s: %(count)s clients",
        count,
        action=action.label,
        count=Count(count),
    )


class ClientBulkActionView(TenantRequiredMixin, View):
    """POST only: the confirmation step, then (with `confirm`) the action."""

    http_method_names = ["post"]
    template_name = "clients/client_bulk_confirm.html"

    def post(self, request):
        form = ClientBulkActionForm(request.POST, tenant=request.tenant)
        action = self._action(request)
        if not form.is_valid():
            return self._render(form, action, None, status=400)
        selection = form.selection()
        count = bulk_selection_clients(tenant=request.tenant, selection=selection).count()
        if "confirm" not in request.POST:
            return self._render(form, action, count)
        try:
            parameters = action.clean(form.cleaned_data, request.tenant)
        except ValidationError as error:
            form_errors_from(form, error)
            return self._render(form, action, count, status=400)
        result = client_bulk_action_start(
            tenant=request.tenant,
            actor=request.user,
            membership=request.membership,
            action=action,
            selection=selection,
            parameters=parameters,
            title=bulk_title(action, count),
            inline_limit=BaseTable.per_page_for(self._list_query(form), request.membership),
            list_query=form.cleaned_data.get("query") or "",
        )
        return redirect(result if isinstance(result, str) else result.get_absolute_url())

    def _action(self, request):
        """The action asked for, refused (403) when the role may not do it."""
        name = request.POST.get("action", "")
        try:
            return bulk_action_for(request.membership, name)
        except LookupError:
            return None
        except PermissionDenied:
            raise PermissionDenied(_("Your role does not allow this.")) from None

    @staticmethod
    def _list_query(form) -> QueryDict:
        """The list's parameters the selection came with (its page size among them)."""
        return QueryDict(form.cleaned_data.get("query") or "")

    def _render(self, form, action, count, status=200):
        context = {"form": form, "action": action, "count": count}
        return render(self.request, self.template_name, context, status=status)


class ClientBulkActionDetailView(TenantRequiredMixin, View):
    """The result of a bulk action; while its job runs, its progress (polled by HTMX: only
    the progress fragment). Another tenant's is a 404."""

    template_name = "clients/client_bulk_action_detail.html"

    def get(self, request, pk):
        job = get_object_or_404(ClientBulkAction.objects.for_tenant(request.tenant), pk=pk)
        action = BULK_ACTIONS.get(job.action)
        context = {"job": job, "action": action, "refused": refused_rows(job)}
        template = self.template_name
        if getattr(request, "htmx", None):
            template = "clients/includes/bulk_action_progress.html"
        response = render(request, template, context)
        patch_vary_headers(response, ["HX-Request"])
        response["Cache-Control"] = "no-store"
        return response

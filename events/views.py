"""The audit log: who changed what across the tenant.

Owners see every event; accountants see the money events only (ledger postings and credit
limits), read-only like every audit page; other roles are refused (403). The list is a
filtered BaseTable, refreshed by HTMX like every list, paged without counting the whole
table (keyset pages: newer, older). Its .xlsx export is every list's (the shared toolbar,
exports.lists): the worker asks this view for its table, so the file holds this queryset
(an accountant's money events only), this FilterSet and this order, every page of it."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from tenancy.mixins import FilteredTableView

from .filters import EventFilterSet
from .models import Event
from .selectors import audit_events, sees_money_only
from .tables import EventTable
from .types import AUDIT_ROLES


class EventListView(FilteredTableView):
    model = Event
    table_class = EventTable
    filterset_class = EventFilterSet
    template_name = "events/event_list.html"

    def dispatch(self, request, *args, **kwargs):
        membership = getattr(request, "membership", None)
        if membership is not None and membership.role not in AUDIT_ROLES:
            raise PermissionDenied(_("Your role does not allow this."))
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return audit_events(tenant=self.request.tenant, membership=self.request.membership)

    def get_filterset(self):
        return self.filterset_class(
            self.request.GET or None,
            queryset=self.get_queryset(),
            tenant=self.request.tenant,
            money_only=sees_money_only(self.request.membership),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["money_only"] = sees_money_only(self.request.membership)
        return context

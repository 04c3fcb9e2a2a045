"""What subscriptions add to the client page and list (clients.extensions), registered in
apps.py: the Current subscription, Subscription history and Quick stats blocks, the list's
Expiring filter, and the guard that keeps a client with a live subscription from deletion.
All for the modules that sell subscriptions (tenancy.modules.SUBSCRIPTIONS)."""

from billing.currency import currency_shown
from clients.extensions import (
    MAIN,
    SIDE,
    DeleteGuard,
    ListFilter,
    PageBlock,
)
from tenancy.modules import SUBSCRIPTIONS
from tenancy.roles import Capability

from .filters import ExpiringWithinFilter
from .models import LIVE_STATUSES, tenant_today
from .selectors import (
    client_current_subscriptions,
    client_deletion_blockers,
    client_quick_stats,
    client_subscriptions,
    clients_deletion_blockers,
)
from .tables import SubscriptionTable, subscription_badge


def current_subscription_context(request, client) -> dict:
    """The live subscriptions with their badges (also read by the page's "View subscription"
    button), or the latest period."""
    tenant = request.tenant
    today = tenant_today(tenant)
    current = client_current_subscriptions(client=client)
    for subscription in current:
        subscription.badge = subscription_badge(
            subscription.display_status(today, tenant.expiring_window_days)
        )
    return {
        "today": today,
        "current_subscriptions": current,
        "has_live_subscription": any(s.status in LIVE_STATUSES for s in current),
        "can_manage_subscriptions": request.membership.allows(Capability.MANAGE_SUBSCRIPTIONS),
    }


def subscription_history_context(request, client) -> dict:
    history = SubscriptionTable.for_request(client_subscriptions(client=client), request)
    return {"table": history, "history": history}  # `table`: the region HTMX refreshes


def quick_stats_context(request, client) -> dict:
    today = tenant_today(request.tenant)
    return {
        "today": today,
        "stats": client_quick_stats(client=client, today=today),
        "currency_shown": currency_shown(request.tenant.currency),
    }


BLOCKS = (
    PageBlock(
        name="current_subscription",
        template="subscriptions/blocks/current_subscription.html",
        context=current_subscription_context,
        column=MAIN,
        order=20,
        modules=SUBSCRIPTIONS,
    ),
    PageBlock(
        name="subscription_history",
        template="subscriptions/blocks/subscription_history.html",
        context=subscription_history_context,
        column=MAIN,
        order=30,
        modules=SUBSCRIPTIONS,
    ),
    PageBlock(
        name="quick_stats",
        template="subscriptions/blocks/quick_stats.html",
        context=quick_stats_context,
        column=SIDE,
        order=20,
        modules=SUBSCRIPTIONS,
    ),
)
EXPIRING_FILTER = ListFilter(
    name="expiring",
    filter=ExpiringWithinFilter(),  # a subscription ends within N days
    template="subscriptions/filter_expiring.html",
    modules=SUBSCRIPTIONS,
)
LIVE_SUBSCRIPTION_GUARD = DeleteGuard(
    name="live_subscriptions",
    blockers=lambda client: client_deletion_blockers(client=client),
    blockers_many=lambda tenant, client_ids: clients_deletion_blockers(
        tenant=tenant, client_ids=client_ids
    ),
)

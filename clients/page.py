"""What the client page (General info) shows, gathered in a fixed number of queries however
long the client's history is:

- the client with its client type and account (one query, in the view);
- the live subscriptions, or the latest period when none is live (one or two);
- the subscription history: a capped count and one page (two);
- the quick stats: one aggregate;
- the newest activity lines with their operators: one.

Only the blocks of the tenant's modules are gathered (clients/modules.py: PAGE_BLOCKS).

The Connection details block is filled by the routers app: it registers a provider with
`register_connection_provider(func)`, where `func(request, client)` returns an object for
`clients/blocks/connection.html` (or None: "no router is assigned"). Providers should use a
fixed number of queries too.
"""

from collections.abc import Callable

from tenancy.roles import Capability

from .modules import page_blocks_for

ACTIVITY_ON_PAGE = 15
CONNECTION_PROVIDERS: list[Callable] = []


def register_connection_provider(provider: Callable) -> None:
    if provider not in CONNECTION_PROVIDERS:
        CONNECTION_PROVIDERS.append(provider)


def client_connection(request, client):
    for provider in CONNECTION_PROVIDERS:
        connection = provider(request, client)
        if connection is not None:
            return connection
    return None


def client_page_context(request, client) -> dict:
    """The General info tab: the blocks the tenant's modules show (clients/modules.py), and
    only their data (a tenant without subscriptions runs none of their queries)."""
    from billing.selectors import account_or_empty

    from .models import ClientActivity

    tenant = request.tenant
    membership = request.membership
    blocks = page_blocks_for(tenant)
    shown = {*blocks["main"], *blocks["side"]}
    activity = (
        ClientActivity.objects.for_tenant(tenant)
        .filter(client=client)
        .select_related("actor")
        .order_by("-created_at", "-id")[:ACTIVITY_ON_PAGE]
    )
    context = {
        "page_blocks": blocks,
        "account": account_or_empty(client=client),
        "currency": tenant.currency,
        "activity": list(activity),
        "can_manage_clients": membership.allows(Capability.MANAGE_CLIENTS),
        "can_manage_subscriptions": membership.allows(Capability.MANAGE_SUBSCRIPTIONS),
    }
    if shown & SUBSCRIPTION_BLOCKS:
        context.update(subscription_blocks_context(request, client, shown))
    if "connection" in shown:
        context["connection"] = client_connection(request, client)
    return context


SUBSCRIPTION_BLOCKS = {"current_subscription", "subscription_history", "quick_stats"}


def subscription_blocks_context(request, client, shown: set[str]) -> dict:
    from subscriptions.models import LIVE_STATUSES, tenant_today
    from subscriptions.selectors import (
        client_current_subscriptions,
        client_quick_stats,
        client_subscriptions,
    )
    from subscriptions.tables import SubscriptionTable, subscription_badge

    tenant = request.tenant
    today = tenant_today(tenant)
    window = tenant.expiring_window_days
    current = client_current_subscriptions(client=client)
    for subscription in current:
        subscription.badge = subscription_badge(subscription.display_status(today, window))
    live = [s for s in current if s.status in LIVE_STATUSES]
    context = {
        "today": today,
        "current_subscriptions": current,
        "has_live_subscription": bool(live),
    }
    if "subscription_history" in shown:
        history = SubscriptionTable.for_request(client_subscriptions(client=client), request)
        context["table"] = history  # the table region refreshed by HTMX (sorting, paging)
        context["history"] = history
    if "quick_stats" in shown:
        context["stats"] = client_quick_stats(client=client, today=today)
    return context

"""What the client page (General info) shows, gathered in a fixed number of queries however
long the client's history is: the client with its client type and the related rows the blocks
read (one query, in the view), then each block's own context, only for the blocks the tenant's
modules show (clients.extensions):

- clients: Basic information (the client's fields; the balance row reads billing's account)
  and the newest events of its timeline with their operators (one query);
- subscriptions: the current subscription, the subscription history and the quick stats;
- holds: the holds in force; routers: the connection details.

Contributed blocks should use a fixed number of queries too.
"""

from events.selectors import client_events
from tenancy.roles import Capability

from .extensions import MAIN, SIDE, PageBlock, page_context, register_page_block

ACTIVITY_ON_PAGE = 15


def client_page_context(request, client) -> dict:
    """The General info tab: what every block may read, and the blocks' own context."""
    return {
        "currency": request.tenant.currency,
        "can_manage_clients": request.membership.allows(Capability.MANAGE_CLIENTS),
        **page_context(request, client),
    }


def activity_context(request, client) -> dict:
    activity = (
        client_events(tenant=request.tenant, client_id=client.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:ACTIVITY_ON_PAGE]
    )
    return {"activity": list(activity)}


CLIENT_BLOCKS = (
    PageBlock(name="basic_info", template="clients/blocks/basic_info.html", column=MAIN, order=10),
    PageBlock(
        name="activity",
        template="clients/blocks/activity.html",
        context=activity_context,
        column=SIDE,
        order=90,
    ),
)


def register_client_blocks() -> None:
    for block in CLIENT_BLOCKS:
        register_page_block(block)

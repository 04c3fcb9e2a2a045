"""What holds adds to the client page (clients.extensions), registered in apps.py, for every
tenant: the Holds block, with the hold / release form. No query when the client is Active (its
stored status says no hold is in force), one otherwise."""

from clients.extensions import SIDE, PageBlock
from clients.models import ClientStatus
from tenancy.roles import Capability

from .models import ClientHold, HoldKind

HELD = (ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.FINANCIAL_HOLD)


def holds_context(request, client) -> dict:
    holds = []
    if client.status in HELD:
        holds = list(
            ClientHold.objects.for_tenant(request.tenant)
            .filter(client=client, lifted_at__isnull=True)
            .select_related("set_by")
            .order_by("kind")
        )
    kinds = {hold.kind for hold in holds}
    return {
        "holds": holds,
        "admin_hold": HoldKind.ADMINISTRATIVE in kinds,
        "financial_hold": HoldKind.FINANCIAL in kinds,
        "can_manage_holds": request.membership.allows(Capability.MANAGE_HOLDS),
        # A refused hold or release shows the page again with its errors (views.py).
        "hold_form": getattr(request, "hold_form", None),
    }


HOLDS_BLOCK = PageBlock(
    name="holds",
    template="holds/client_holds.html",
    context=holds_context,
    column=SIDE,
    order=10,
)

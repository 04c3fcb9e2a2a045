"""What holds adds to the client page and list (clients.extensions), registered in apps.py, for
every tenant: the Holds block, with the hold / release form (no query when the client is Active:
its stored status says no hold is in force, one otherwise), and the list's bulk actions "Place
administrative hold" and "Release administrative hold", with a reason, through the services of
the single actions' rules (`clients_place_hold`, `clients_release_hold`)."""

from django.utils.translation import gettext_lazy as _

from clients.extensions import SIDE, BulkAction, PageBlock
from clients.models import ClientStatus
from tenancy.roles import Capability

from .models import ClientHold, HoldKind
from .services import clean_reason, clients_place_hold, clients_release_hold, operator_reason

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


def _reason(data, tenant) -> dict:
    return {"reason": clean_reason(data.get("reason"))}


def _place(*, tenant, actor, client_ids, parameters):
    """The action's reason is the operator's typed text (kept so in its parameters)."""
    return clients_place_hold(
        tenant=tenant,
        actor=actor,
        client_ids=client_ids,
        reason=operator_reason(parameters["reason"]),
    )


def _release(*, tenant, actor, client_ids, parameters):
    return clients_release_hold(
        tenant=tenant,
        actor=actor,
        client_ids=client_ids,
        reason=operator_reason(parameters["reason"]),
    )


BULK_HOLD_ACTIONS = (
    BulkAction(
        name="hold_place",
        label=_("Place administrative hold"),
        capability=Capability.MANAGE_HOLDS,
        run=_place,
        clean=_reason,
        parameters=("reason",),
        done_label=_("Put on hold"),
        order=10,
    ),
    BulkAction(
        name="hold_release",
        label=_("Release administrative hold"),
        capability=Capability.MANAGE_HOLDS,
        run=_release,
        clean=_reason,
        parameters=("reason",),
        done_label=_("Released"),
        order=20,
    ),
)

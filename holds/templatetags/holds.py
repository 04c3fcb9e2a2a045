"""{% client_holds client %}: the holds block of the client page. No query when the client is
Active (its stored status says no hold is in force), one otherwise."""

from django import template

from clients.models import ClientStatus
from tenancy.roles import Capability

from ..models import ClientHold, HoldKind

register = template.Library()


@register.inclusion_tag("holds/client_holds.html", takes_context=True)
def client_holds(context, client):
    request = context["request"]
    holds = []
    if client.status in (ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.FINANCIAL_HOLD):
        holds = list(
            ClientHold.objects.for_tenant(request.tenant)
            .filter(client=client, lifted_at__isnull=True)
            .select_related("set_by")
            .order_by("kind")
        )
    kinds = {h.kind for h in holds}
    return {
        "client": client,
        "holds": holds,
        "admin_hold": HoldKind.ADMINISTRATIVE in kinds,
        "financial_hold": HoldKind.FINANCIAL in kinds,
        "can_manage_holds": request.membership.allows(Capability.MANAGE_HOLDS),
        "csrf_token": context.get("csrf_token"),
        "form": getattr(request, "hold_form", None),
    }

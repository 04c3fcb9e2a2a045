from .navigation import nav_sections_for
from .roles import Capability


def tenancy(request):
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    return {
        "tenant": tenant,
        "membership": membership,
        "memberships": getattr(request, "memberships", []),
        "nav_sections": nav_sections_for(tenant, membership),
        "can": {c: bool(membership and membership.allows(c)) for c in Capability.values},
    }

from .roles import Capability


def tenancy(request):
    membership = getattr(request, "membership", None)
    return {
        "tenant": getattr(request, "tenant", None),
        "membership": membership,
        "memberships": getattr(request, "memberships", []),
        "can": {c: bool(membership and membership.allows(c)) for c in Capability.values},
    }

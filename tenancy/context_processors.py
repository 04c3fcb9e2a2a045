from .modules import features_for
from .navigation import nav_sections_for
from .roles import Capability


def nav_section_of(request) -> str:
    """The navigation section of the page shown: the view's `nav_section` when it says (a
    client's Connection tab belongs to Clients, though the routers app serves it), else the
    URL namespace."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    view_class = getattr(match.func, "view_class", None)
    return getattr(view_class, "nav_section", None) or match.app_name


def tenancy(request):
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    return {
        "nav_section": nav_section_of(request),
        "tenant": tenant,
        "membership": membership,
        "memberships": getattr(request, "memberships", []),
        "nav_sections": nav_sections_for(tenant, membership),
        "can": {c: bool(membership and membership.allows(c)) for c in Capability.values},
        "features": features_for(tenant),
    }

"""Roles of a membership and the capabilities each one grants.

Views ask for a capability, never for a role, so that a role can change what it may do in one
place.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    ACCOUNTANT = "accountant", _("Accountant")
    VIEWER = "viewer", _("Viewer")


class Capability(models.TextChoices):
    VIEW = "view", _("See the tenant's data")
    MANAGE_OPERATORS = "manage_operators", _("Manage operators")
    MANAGE_CLIENTS = "manage_clients", _("Create and edit clients")
    MANAGE_SUBSCRIPTIONS = "manage_subscriptions", _("Manage packages and subscriptions")
    MANAGE_HOLDS = "manage_holds", _("Place and release holds")
    TOP_UP = "top_up", _("Top up accounts")
    MANAGE_CREDIT = "manage_credit", _("Change credit limits and post adjustments")
    MANAGE_ROUTERS = "manage_routers", _("Manage routers")
    EXPORT = "export", _("Export data")
    MANAGE_API_TOKENS = "manage_api_tokens", _("Create and revoke API tokens")
    INGEST_MESSAGES = "ingest_messages", _("Send message traffic and delivery reports")
    MANAGE_WEBHOOKS = "manage_webhooks", _("Manage webhook endpoints")
    SHARE_VIEWS = "share_views", _("Share saved views of lists with the tenant")
    REMOVE_SHARED_VIEWS = "remove_shared_views", _("Remove views others shared")


ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(Capability.values),
    Role.MANAGER: frozenset(
        {
            Capability.VIEW,
            Capability.MANAGE_CLIENTS,
            Capability.MANAGE_SUBSCRIPTIONS,
            Capability.MANAGE_HOLDS,
            Capability.MANAGE_ROUTERS,
            Capability.EXPORT,
            Capability.SHARE_VIEWS,
        }
    ),
    Role.ACCOUNTANT: frozenset(
        {Capability.VIEW, Capability.TOP_UP, Capability.MANAGE_CREDIT, Capability.EXPORT}
    ),
    Role.VIEWER: frozenset({Capability.VIEW}),
}


# An API token carries a role, or this narrower scope: a gateway that only pushes traffic.
INGEST_SCOPE = "ingest"
SCOPE_CAPABILITIES: dict[str, frozenset[str]] = {
    **ROLE_CAPABILITIES,
    INGEST_SCOPE: frozenset({Capability.INGEST_MESSAGES}),
}


def role_allows(role: str, capability: str) -> bool:
    return capability in ROLE_CAPABILITIES.get(role, frozenset())


def scope_allows(scope: str, capability: str) -> bool:
    """What an API token of `scope` (a role or INGEST_SCOPE) may do."""
    return capability in SCOPE_CAPABILITIES.get(scope, frozenset())

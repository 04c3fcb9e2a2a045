"""The event types: what each says happened, and which are about money (an accountant's
audit log shows only those). docs/events.md gives an example payload of each."""

from django.utils.translation import gettext_lazy as _

from tenancy.roles import Role

EVENT_TYPES: dict[str, object] = {
    "client.created": _("Client created"),
    "client.updated": _("Client edited"),
    "client.deleted": _("Client deleted"),
    "hold.placed": _("Hold placed"),
    "hold.released": _("Hold released"),
    "subscription.created": _("Subscription bought"),
    "subscription.renewed": _("Subscription renewed"),
    "subscription.expired": _("Subscription expired"),
    "subscription.cancelled": _("Subscription cancelled"),
    "subscription.suspended": _("Subscriptions suspended"),
    "subscription.resumed": _("Subscriptions resumed"),
    "subscription.auto_renew_changed": _("Auto-renew changed"),
    "ledger.entry_posted": _("Ledger entry posted"),
    "credit_limit.changed": _("Credit limit changed"),
    "sender_id.status_changed": _("Sender ID status changed"),
    "webhook_endpoint.created": _("Webhook endpoint added"),
    "webhook_endpoint.updated": _("Webhook endpoint edited"),
    "webhook_endpoint.deleted": _("Webhook endpoint deleted"),
    "webhook_endpoint.disabled": _("Webhook endpoint disabled"),
    "webhook_delivery.redelivered": _("Webhook delivery sent again"),
    "package.created": _("Package created"),
    "package.updated": _("Package changed"),
    "router.created": _("Router added"),
    "router.updated": _("Router changed"),
    "router.unreachable": _("Router unreachable"),
    "router.reachable": _("Router reachable again"),
    "pppoe.session_started": _("PPPoE session started"),
    "pppoe.session_ended": _("PPPoE session ended"),
    "operator.invited": _("Operator invited"),
    "operator.role_changed": _("Operator's role changed"),
    "operator.updated": _("Operator edited"),
    "operator.deactivated": _("Operator deactivated"),
    "operator.reactivated": _("Operator reactivated"),
    "api_token.created": _("API token created"),
    "api_token.revoked": _("API token revoked"),
    "import.finished": _("Client import finished"),
    "tenant.security_changed": _("Two-factor requirement changed"),
}

# Who reads the audit log: owners all of it, accountants its money events.
AUDIT_ROLES = frozenset({Role.OWNER, Role.ACCOUNTANT})

MONEY_TYPES = frozenset({"ledger.entry_posted", "credit_limit.changed"})


def type_choices(*, money_only: bool = False) -> list[tuple[str, str]]:
    return [
        (key, label) for key, label in EVENT_TYPES.items() if not money_only or key in MONEY_TYPES
    ]

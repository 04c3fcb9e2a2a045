"""The event types: what each says happened, and which are about money (an accountant's
audit log shows only those). docs/events.md gives an example payload of each."""

from tenancy.roles import Role

EVENT_TYPES: dict[str, str] = {
    "client.created": "Client created",
    "client.updated": "Client edited",
    "client.deleted": "Client deleted",
    "hold.placed": "Hold placed",
    "hold.released": "Hold released",
    "subscription.created": "Subscription bought",
    "subscription.renewed": "Subscription renewed",
    "subscription.expired": "Subscription expired",
    "subscription.cancelled": "Subscription cancelled",
    "subscription.suspended": "Subscriptions suspended",
    "subscription.resumed": "Subscriptions resumed",
    "subscription.auto_renew_changed": "Auto-renew changed",
    "ledger.entry_posted": "Ledger entry posted",
    "credit_limit.changed": "Credit limit changed",
    "sender_id.status_changed": "Sender ID status changed",
    "webhook_endpoint.created": "Webhook endpoint added",
    "webhook_endpoint.updated": "Webhook endpoint edited",
    "webhook_endpoint.deleted": "Webhook endpoint deleted",
    "webhook_endpoint.disabled": "Webhook endpoint disabled",
    "webhook_delivery.redelivered": "Webhook delivery sent again",
    "package.created": "Package created",
    "package.updated": "Package changed",
    "router.created": "Router added",
    "router.updated": "Router changed",
    "router.unreachable": "Router unreachable",
    "router.reachable": "Router reachable again",
    "pppoe.session_started": "PPPoE session started",
    "pppoe.session_ended": "PPPoE session ended",
    "operator.invited": "Operator invited",
    "operator.role_changed": "Operator's role changed",
    "operator.updated": "Operator edited",
    "operator.deactivated": "Operator deactivated",
    "operator.reactivated": "Operator reactivated",
    "api_token.created": "API token created",
    "api_token.revoked": "API token revoked",
    "import.finished": "Client import finished",
    "tenant.security_changed": "Two-factor requirement changed",
}

# Who reads the audit log: owners all of it, accountants its money events.
AUDIT_ROLES = frozenset({Role.OWNER, Role.ACCOUNTANT})

MONEY_TYPES = frozenset({"ledger.entry_posted", "credit_limit.changed"})


def type_choices(*, money_only: bool = False) -> list[tuple[str, str]]:
    return [
        (key, label) for key, label in EVENT_TYPES.items() if not money_only or key in MONEY_TYPES
    ]

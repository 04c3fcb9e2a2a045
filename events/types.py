"""The event types: what each says happened, and which are about money (an accountant's
audit log shows only those). docs/events.md gives an example payload of each."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
    "sender_id.created": _("Sender ID added"),
    "sender_id.updated": _("Sender ID edited"),
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
    "pppoe_account.created": _("PPPoE account added"),
    "pppoe_account.updated": _("PPPoE account changed"),
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

# What an event is about (its object_type), as the audit log names it.
OBJECT_TYPES = [
    ("client", _("Client")),
    ("hold", _("Hold")),
    ("subscription", _("Subscription")),
    ("ledger_entry", _("Ledger entry")),
    ("credit_limit_change", _("Credit limit change")),
    ("sender_id", _("Sender ID")),
    ("package", _("Package")),
    ("router", _("Router")),
    ("pppoe_account", _("PPPoE account")),
    ("operator", pgettext_lazy("portal user", "Operator")),
    ("api_token", _("API token")),
    ("client_import", _("Client import")),
    ("tenant", _("Tenant")),
    ("webhook_endpoint", pgettext_lazy("webhook endpoint", "Webhook endpoint")),
    ("webhook_delivery", pgettext_lazy("webhook delivery", "Webhook delivery")),
]
OBJECT_TYPE_LABELS = dict(OBJECT_TYPES)

# Who reads the audit log: owners all of it, accountants its money events.
AUDIT_ROLES = frozenset({Role.OWNER, Role.ACCOUNTANT})

MONEY_TYPES = frozenset({"ledger.entry_posted", "credit_limit.changed"})


def event_type_label(code: str) -> str:
    """What an event of this type says happened, in the reader's language (the code itself
    for a type no longer listed)."""
    return str(EVENT_TYPES.get(code, code))


def type_choices(*, money_only: bool = False) -> list[tuple[str, str]]:
    return [
        (key, label) for key, label in EVENT_TYPES.items() if not money_only or key in MONEY_TYPES
    ]

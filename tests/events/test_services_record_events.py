"""A service that changes business state records its event: this walks every public
function of the services modules and checks that it calls `event_record` or
`events_record_bulk`, itself or through the functions it calls (in any services module), so a
new service cannot forget. The functions that write no business change of their own are named
below with the reason."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICE_MODULES = [
    "clients/services.py",
    "billing/services.py",
    "subscriptions/services.py",
    "subscriptions/lifecycle.py",
    "holds/services.py",
    "messaging/services.py",
    "routers/services.py",
    "events/webhooks.py",
    "tenancy/services.py",
]
# tenancy sits below events: its services send the change that events records
# (tenancy/signals.py).
RECORDERS = {"event_record", "events_record_bulk", "tenancy_change_record"}
WRITES = ("save", "create", "update", "bulk_create", "delete", "get_or_create", "execute")

# Writes that are not business changes of their own, or whose event is not in this slice.
NOT_RECORDED = {
    # An account is opened with its client (client.created says so), at a zero balance.
    "account_for_client": "opens the account a client is created with",
    "accounts_create_for_clients": "opens the accounts clients are created with",
    "account_ids_for_clients": "opens the accounts of clients that have none, before posting",
    # Bookkeeping of e-mails and statuses derived from events recorded elsewhere.
    "notifications_create": "e-mails owed for holds and expiries already recorded",
    "clients_refresh_status": "the status derived from holds, whose events are recorded",
    "clients_reconcile_status": "repairs a derived status to what the recorded holds say",
    "subscriptions_suspend": "the set-wise step; its callers record subscription.suspended",
    "dirty_days_mark": "marks statistics days to roll up again",
    "messages_ingest": "message records are traffic, not business changes",
    # Tenancy's bookkeeping: an operator's own table preferences, the client numbers handed
    # out (client.created records the client), a token's last use.
    "membership_save_preference": "an operator's own columns and page size",
    "saved_view_create": "a saved list view is a preference, like the columns (README)",
    "saved_view_delete": "removes a saved list view, a preference",
    "tenant_next_number": "hands out the numbers client.created records",
    "api_token_authenticate": "marks a token's last use",
    "api_idempotency_purge": "deletes the API's kept answers to retries once they are old",
    "pppoe_account_set_access": "enforcement follows hold events already recorded",
    "pppoe_account_push": "pushes the stored account to its router",
    "router_adoption_start": "queues the job; each secret it adopts records pppoe_account.adopted",
    # Webhooks carry events already recorded: their deliveries are bookkeeping of the sending.
    "webhooks_fan_out": "writes the deliveries of events already recorded",
    "webhooks_dispatch": "marks due deliveries as queued",
    "webhook_delivery_send": "records one try of a delivery (its endpoint's disabling is an event)",
}


def _functions():
    found = {}
    for module in SERVICE_MODULES:
        tree = ast.parse((ROOT / module).read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = (module, node)
    return found


def _calls(node) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def _records(name, functions, seen) -> bool:
    if name in seen or name not in functions:
        return False
    seen.add(name)
    calls = _calls(functions[name][1])
    return bool(calls & RECORDERS) or any(_records(c, functions, seen) for c in calls)


def test_every_service_that_writes_records_its_event():
    functions = _functions()
    forgetful = [
        f"{module}:{name}"
        for name, (module, node) in functions.items()
        if not name.startswith("_")
        and _calls(node) & set(WRITES)
        and not _records(name, functions, set())
        and name not in NOT_RECORDED
    ]
    assert not forgetful, f"services that write without an event: {forgetful}"


def test_the_exemptions_name_real_services():
    functions = _functions()
    assert not set(NOT_RECORDED) - set(functions)

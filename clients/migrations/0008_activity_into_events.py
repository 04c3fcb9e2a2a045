"""The client timeline moves into events: every activity line becomes an event with the same
id, time, actor, wording and details, and the activity table goes (one record of history)."""

from django.core.management.color import no_style
from django.db import migrations

# The timeline's verbs and the event types that replace them (docs/events.md).
VERB_TYPES = {
    "created": "client.created",
    "edited": "client.updated",
    "deleted": "client.deleted",
    "hold_set": "hold.placed",
    "hold_released": "hold.released",
    "subscription_created": "subscription.created",
    "subscription_renewed": "subscription.renewed",
    "subscription_expired": "subscription.expired",
    "subscription_cancelled": "subscription.cancelled",
    "auto_renew_changed": "subscription.auto_renew_changed",
    "subscriptions_suspended": "subscription.suspended",
    "subscriptions_resumed": "subscription.resumed",
    "credit_limit_changed": "credit_limit.changed",
}
LEDGER_KINDS = {
    "top_up",
    "subscription_purchase",
    "messaging_charge",
    "refund",
    "adjustment",
    "reversal",
}
BATCH = 5000


def event_type(verb: str, description: str = "") -> str:
    if verb == "imported":  # the client import wrote "Imported from" or "Updated from"
        return "client.updated" if description.startswith("Updated from") else "client.created"
    if verb in LEDGER_KINDS:
        return "ledger.entry_posted"
    return VERB_TYPES.get(verb, f"client.{verb}")


def payload_of(verb: str, data: dict) -> dict:
    if verb in LEDGER_KINDS:
        return {**data, "kind": verb}
    if verb == "imported":
        return {**data, "source": "import"}
    return data


def object_of(verb: str, data: dict, client_id: int) -> tuple[str, int]:
    if verb in LEDGER_KINDS and data.get("entry"):
        return "ledger_entry", data["entry"]
    if verb.startswith("hold_") and data.get("hold"):
        return "hold", data["hold"]
    if verb.startswith("subscription_") and data.get("subscription"):
        return "subscription", data["subscription"]
    return "client", client_id


def actor_kind(actor_id, label: str) -> str:
    if actor_id:
        return "operator"
    return "system" if label in ("", "system") else "job"


def copy_activity(apps, schema_editor):
    activity = apps.get_model("clients", "ClientActivity")
    event = apps.get_model("events", "Event")
    last = 0
    while True:
        lines = list(activity._base_manager.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not lines:
            break
        event._base_manager.bulk_create(
            [
                event(
                    pk=line.pk,
                    tenant_id=line.tenant_id,
                    created_at=line.created_at,
                    type=event_type(line.verb, line.description),
                    actor_kind=actor_kind(line.actor_id, line.actor_label),
                    actor_id=line.actor_id,
                    actor_label="" if line.actor_id else (line.actor_label or "system"),
                    object_type=object_of(line.verb, line.data or {}, line.client_id)[0],
                    object_id=object_of(line.verb, line.data or {}, line.client_id)[1],
                    client_id=line.client_id,
                    description=line.description,
                    payload=payload_of(line.verb, line.data or {}),
                )
                for line in lines
            ]
        )
        last = lines[-1].pk
    # The kept ids came from the old sequence: the next event must follow them.
    sql = schema_editor.connection.ops.sequence_reset_sql(no_style(), [event])
    with schema_editor.connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0007_client_import"),
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_activity, migrations.RunPython.noop, elidable=True),
        migrations.DeleteModel(name="ClientActivity"),
    ]

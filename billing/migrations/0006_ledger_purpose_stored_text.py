"""A ledger entry's purpose holds its message (core/stored_text.py) as JSON, like an event's
description (events/0008).

Forward, in place: a row written before keeps its sentence as a JSON string, which reads back
as literal text, except the three purposes the services wrote in fixed English words ("Account
top-up", "Refund", "Opening balance"), which pages already showed in the reader's language: they
become those messages. On PostgreSQL the column changes type in one statement (`USING`); on
SQLite (the demo) each value is turned into JSON before the table is rebuilt.

Backward: a literal goes back to its text and those three messages to their English words (as
they were); any other message is rendered in its tenant's language and formats (its dates,
amounts and plural forms), as a writer of that language would have written it, cut to the old
column's 255 characters.
"""

import json
import zoneinfo

from django.db import migrations, models
from django.utils import timezone, translation

import core.stored_text
from core.formatting import formats_of

TABLE = "billing_ledgerentry"
FIXED = ("Account top-up", "Refund", "Opening balance")
FIXED_SQL = ", ".join(f"'{text}'" for text in FIXED)
OLD_LENGTH = 255
BATCH = 2000


def _fields(apps):
    model = apps.get_model("billing", "LedgerEntry")
    old = models.CharField(max_length=OLD_LENGTH, verbose_name="Purpose")
    old.set_attributes_from_name("purpose")
    return model, old, model._meta.get_field("purpose")


def to_stored_text(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN purpose TYPE jsonb USING CASE WHEN purpose IN "
            f"({FIXED_SQL}) THEN jsonb_build_object('msgid', purpose) ELSE to_jsonb(purpose) END"
        )
        return
    model, old, new = _fields(apps)
    schema_editor.execute(
        f"UPDATE {TABLE} SET purpose = CASE WHEN purpose IN ({FIXED_SQL}) "
        "THEN json_object('msgid', purpose) ELSE json_quote(purpose) END"
    )
    schema_editor.alter_field(model, old, new)


def _rendered(document, tenant) -> str | None:
    """A message's text in its tenant's language and formats; None for a literal or one of the
    fixed purposes, which the column's change below turns back into text itself."""
    text = core.stored_text.StoredText.from_json(document)
    if text.literal or (text.msgid in FIXED and not text.params):
        return None
    with (
        translation.override(tenant.language or "en"),
        formats_of(tenant),
        timezone.override(zoneinfo.ZoneInfo(tenant.time_zone)),
    ):
        return text.render()[:OLD_LENGTH]


def _messages_rendered(apps, connection) -> None:
    """Every message that is not one of the fixed purposes, as the JSON string of its text."""
    tenants = {tenant.pk: tenant for tenant in apps.get_model("tenancy", "Tenant").objects.all()}
    is_object = (
        "jsonb_typeof(purpose) = 'object'"
        if connection.vendor == "postgresql"
        else "json_type(purpose) = 'object'"
    )
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                f"SELECT id, tenant_id, purpose FROM {TABLE} "  # noqa: S608 - names are ours
                f"WHERE id > %s AND {is_object} ORDER BY id LIMIT %s",
                [last, BATCH],
            )
            rows = cursor.fetchall()
            if not rows:
                return
            last = rows[-1][0]
            for pk, tenant_id, purpose in rows:
                document = json.loads(purpose) if isinstance(purpose, str) else purpose
                text = _rendered(document, tenants[tenant_id])
                if text is not None:
                    cursor.execute(
                        f"UPDATE {TABLE} SET purpose = %s WHERE id = %s",  # noqa: S608
                        [json.dumps(text), pk],
                    )


def to_text(apps, schema_editor):
    _messages_rendered(apps, schema_editor.connection)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN purpose TYPE varchar({OLD_LENGTH}) USING "
            "left(CASE WHEN jsonb_typeof(purpose) = 'string' THEN purpose #>> '{}' "
            f"ELSE purpose->>'msgid' END, {OLD_LENGTH})"
        )
        return
    model, old, new = _fields(apps)
    schema_editor.alter_field(model, new, old)
    schema_editor.execute(
        f"UPDATE {TABLE} SET purpose = CASE WHEN json_type(purpose) = 'text' "
        "THEN json_extract(purpose, '$') ELSE json_extract(purpose, '$.msgid') END"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0005_translatable_names"),
        ("tenancy", "0013_languages"),  # the tenant's language, read going back
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ledgerentry",
                    name="purpose",
                    field=core.stored_text.StoredTextField(verbose_name="Purpose"),
                ),
            ],
            database_operations=[migrations.RunPython(to_stored_text, to_text)],
        ),
    ]

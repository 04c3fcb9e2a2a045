"""The event's description holds its message (core/stored_text.py) as JSON.

Rows written before keep their sentence as a JSON string, which reads back as literal text:
on PostgreSQL the column changes type in place (`to_jsonb`), on SQLite (the demo) each value
is quoted as JSON before the table is rebuilt with the JSON column's check."""

import core.stored_text
from django.db import migrations, models

TABLE = "events_event"


def _fields(apps):
    model = apps.get_model("events", "Event")
    old = models.CharField(max_length=500)
    old.set_attributes_from_name("description")
    return model, old, model._meta.get_field("description")


def to_stored_text(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN description TYPE jsonb USING to_jsonb(description)"
        )
        return
    model, old, new = _fields(apps)
    schema_editor.execute(f"UPDATE {TABLE} SET description = json_quote(description)")
    schema_editor.alter_field(model, old, new)


def to_text(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN description TYPE varchar(500) USING "
            "left(CASE WHEN jsonb_typeof(description) = 'string' THEN description #>> '{}' "
            "ELSE description->>'msgid' END, 500)"
        )
        return
    model, old, new = _fields(apps)
    schema_editor.alter_field(model, new, old)
    schema_editor.execute(
        f"UPDATE {TABLE} SET description = CASE WHEN json_type(description) = 'text' "
        "THEN json_extract(description, '$') ELSE json_extract(description, '$.msgid') END"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0007_translatable_names"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="description",
                    field=core.stored_text.StoredTextField(),
                ),
            ],
            database_operations=[migrations.RunPython(to_stored_text, to_text)],
        ),
    ]

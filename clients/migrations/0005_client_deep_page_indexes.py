"""Covering indexes for deep pages sorted by ID or by name (PostgreSQL only).

A deep page reads the ids of its rows from the sort index alone (ClientTable.apply_pagination);
that needs the status in the index, since Deleted clients are hidden by default. Measured at
offset 768,000 of 1,000,000 clients: by ID 739 ms -> 0.2-0.3 s, by name 6.2 s -> 0.44 s (the
name is included as well: PostgreSQL only answers from an expression index when the column
itself is there too). Migration 0003 did the same for the purchase and creation dates.
"""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS client_number_status_idx ON clients_client "
    "(tenant_id, number, id) INCLUDE (status)",
    "CREATE INDEX IF NOT EXISTS client_name_status_idx ON clients_client "
    "(tenant_id, lower(name), id) INCLUDE (status, name)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS client_number_status_idx",
    "DROP INDEX IF EXISTS client_name_status_idx",
]


def run_on_postgres(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("clients", "0004_clientactivity")]

    operations = [migrations.RunPython(run_on_postgres(FORWARD), run_on_postgres(BACKWARD))]

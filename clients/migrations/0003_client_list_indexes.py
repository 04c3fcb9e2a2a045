"""Indexes of the client list's sorts and filters.

- Names sort case-insensitively: `(tenant_id, lower(name), id)` replaces `(tenant_id, name, id)`.
- PostgreSQL only: the default sort's and the creation date's indexes include the status, so that deep pages read their
  ids from the index alone (see ClientTable.apply_pagination); and a status filter with the
  default order (latest purchase first, never-bought last) reads
  `(tenant_id, status, last_purchase_at DESC NULLS LAST, id DESC)` and stops after a page,
  instead of sorting every client of that status (274 ms for 60,000 financial holds in a
  tenant of 1,000,000).
"""

import django.db.models.functions.text
from django.db import migrations, models

FORWARD = [
    "CREATE INDEX IF NOT EXISTS client_status_purchase_idx ON clients_client "
    "(tenant_id, status, last_purchase_at DESC NULLS LAST, id DESC)",
    # The default sort's index carries the status, so that the ids of a deep page (Deleted
    # hidden) come from an index-only scan.
    "DROP INDEX IF EXISTS client_purchase_desc_idx",
    "CREATE INDEX client_purchase_desc_idx ON clients_client "
    "(tenant_id, last_purchase_at DESC NULLS LAST, id DESC) INCLUDE (status)",
    # The same for the creation date (either way: read backwards for latest first).
    "CREATE INDEX IF NOT EXISTS client_created_status_idx ON clients_client "
    "(tenant_id, created_at, id) INCLUDE (status)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS client_status_purchase_idx",
    "DROP INDEX IF EXISTS client_created_status_idx",
    "DROP INDEX IF EXISTS client_purchase_desc_idx",
    "CREATE INDEX client_purchase_desc_idx ON clients_client "
    "(tenant_id, last_purchase_at DESC NULLS LAST, id DESC)",
]


def run_on_postgres(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0002_postgres_indexes'),
        ('tenancy', '0001_initial'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='client',
            name='client_name_idx',
        ),
        migrations.AddIndex(
            model_name='client',
            index=models.Index(models.F('tenant'), django.db.models.functions.text.Lower('name'), models.F('id'), name='client_name_lower_idx'),
        ),
        migrations.RunPython(run_on_postgres(FORWARD), run_on_postgres(BACKWARD)),
    ]

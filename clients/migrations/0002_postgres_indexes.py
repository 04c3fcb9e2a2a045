"""PostgreSQL-only indexes of the client list: pg_trgm for the search box, prefix (pattern ops)
indexes for short numeric terms, and DESC NULLS LAST for the default sort (latest purchase on
top, never-bought last). Skipped on SQLite, where the demo runs."""

from django.db import migrations

INDEXES = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS client_search_trgm_idx ON clients_client "
    "USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS client_search_prefix_idx ON clients_client "
    "(tenant_id, search_text varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS client_login_prefix_idx ON clients_client "
    "(tenant_id, login varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS client_itn_prefix_idx ON clients_client "
    "(tenant_id, itn varchar_pattern_ops)",
    "CREATE INDEX IF NOT EXISTS client_purchase_desc_idx ON clients_client "
    "(tenant_id, last_purchase_at DESC NULLS LAST, id DESC)",
]
DROPS = [
    "DROP INDEX IF EXISTS client_search_trgm_idx",
    "DROP INDEX IF EXISTS client_search_prefix_idx",
    "DROP INDEX IF EXISTS client_login_prefix_idx",
    "DROP INDEX IF EXISTS client_itn_prefix_idx",
    "DROP INDEX IF EXISTS client_purchase_desc_idx",
]


def run_on_postgres(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [migrations.RunPython(run_on_postgres(INDEXES), run_on_postgres(DROPS))]

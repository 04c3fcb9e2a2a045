"""Citus readiness: every tenant-owned table is to be distributed by tenant_id, and Citus needs
every primary key and unique constraint of a distributed table to include it. This lists, from
PostgreSQL's catalogue, each primary key and unique index of a table with a tenant_id column that
does not: only the reference tables below may have one (README, "Scale past one machine"). A new
table or constraint without tenant_id fails here; so does a link between tenant-owned tables
that is not keyed by tenant_id (core.tenant_keys)."""

import pytest
from django.apps import apps
from django.db import connection

from tenancy.models import TenantOwnedModel

pytestmark = pytest.mark.django_db

SQL = """
SELECT c.relname, i.relname, ix.indisprimary
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
JOIN pg_index ix ON ix.indrelid = c.oid AND ix.indisunique
JOIN pg_class i ON i.oid = ix.indexrelid
WHERE c.relkind = 'r'
  AND EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                    AND a.attnum = ANY (ix.indkey))
ORDER BY 1, 2
"""

# Citus reference tables (a copy on every node) rather than distributed ones: read before the
# tenant is known, so they may keep keys without tenant_id. Each with the key and the reason.
REFERENCE_TABLES = {
    # An API request names no tenant: its token is found by the digest of its secret alone.
    ("tenancy_apitoken", "tenancy_apitoken_digest_key"),
}


def test_every_key_of_a_tenant_owned_table_includes_tenant_id():
    with connection.cursor() as cursor:
        cursor.execute(SQL)
        rows = cursor.fetchall()
    assert set(rows) == {(table, index, False) for table, index in REFERENCE_TABLES}


def test_every_table_that_points_at_a_tenants_row_carries_tenant_id():
    """A row that belongs to a tenant's row belongs to the tenant: it must carry tenant_id to
    be distributed with it (co-located), not only reach it through a join."""
    missing = [
        f"{model._meta.db_table}.{field.name}"
        for model in apps.get_models()
        if not any(f.name == "tenant" for f in model._meta.get_fields())
        for field in model._meta.get_fields()
        if field.many_to_one
        and field.concrete
        and isinstance(field.related_model, type)
        and issubclass(field.related_model, TenantOwnedModel)
    ]
    assert missing == []


FOREIGN_KEYS_SQL = """
SELECT con.conrelid::regclass::text, con.conname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
WHERE con.contype = 'f'
  AND EXISTS (SELECT 1 FROM pg_attribute a
              WHERE a.attrelid = con.confrelid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                  WHERE a.attrelid = con.conrelid AND a.attname = 'tenant_id'
                    AND a.attnum = ANY (con.conkey))
ORDER BY 1, 2
"""


def test_every_foreign_key_to_a_tenant_owned_table_includes_tenant_id():
    """Citus joins and checks a foreign key between distributed tables on one node only when
    it includes the distribution column."""
    with connection.cursor() as cursor:
        cursor.execute(FOREIGN_KEYS_SQL)
        assert cursor.fetchall() == []

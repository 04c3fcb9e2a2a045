"""Citus readiness: every tenant-owned table is to be distributed by tenant_id, and Citus needs
every primary key and unique constraint of a distributed table to include it. This lists, from
PostgreSQL's catalogue, each primary key and unique index of a table with a tenant_id column that
does not: only the reference tables below may have one (README, "Scale past one machine"). A new
table or constraint without tenant_id fails here; so does a link between tenant-owned tables
that is not keyed by tenant_id (core.tenant_keys)."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from core.tenant_keys import TenantForeignKey, TenantOneToOneField, is_tenant_keyed

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

# Tenant-owned tables that are Citus reference tables (a copy on every node), not distributed:
# they are read before the tenant is known, so they may keep keys without tenant_id.
REFERENCE_TABLES = {
    "tenancy_membership": "an operator's memberships are read at each request by user",
    "tenancy_apitoken": "an API request names no tenant: its token is found by its digest",
}
# What distributed tables point at, without tenant_id of their own.
SHARED_TABLES = {"tenancy_tenant", "auth_user"}
SCRIPT = Path(settings.BASE_DIR) / "scripts" / "citus-distribute.sql"


def test_every_key_of_a_tenant_owned_table_includes_tenant_id():
    with connection.cursor() as cursor:
        cursor.execute(SQL)
        rows = cursor.fetchall()
    assert {(table, index) for table, index, _ in rows if table not in REFERENCE_TABLES} == set()
    assert ("tenancy_apitoken", "tenancy_apitoken_digest_key", False) in rows


def test_every_table_that_points_at_a_tenants_row_carries_tenant_id():
    """A row that belongs to a tenant's row belongs to the tenant: it must carry tenant_id to
    be distributed with it (co-located), not only reach it through a join."""
    missing = [
        f"{model._meta.db_table}.{field.name}"
        for model in apps.get_models()
        if not any(f.name == "tenant" for f in model._meta.get_fields())
        for field in model._meta.get_fields()
        if (field.many_to_one or field.one_to_one)
        and field.concrete
        and isinstance(field.related_model, type)
        and is_tenant_keyed(field.related_model)
    ]
    assert missing == []


LINK_CONSTRAINTS_SQL = """
SELECT c.relname, a.attname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
JOIN pg_attribute t ON t.attrelid = con.conrelid AND t.attname = 'tenant_id'
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = ANY (con.conkey)
WHERE con.contype = 'f' AND array_length(con.conkey, 1) = 2 AND t.attnum = ANY (con.conkey)
  AND a.attname <> 'tenant_id'
"""


def test_every_tenant_keyed_link_has_its_foreign_key():
    """A link declared tenant-keyed is checked by the database, not only declared."""
    with connection.cursor() as cursor:
        cursor.execute(LINK_CONSTRAINTS_SQL)
        in_database = set(cursor.fetchall())
    declared = {
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        for field in model._meta.local_fields
        if isinstance(field, (TenantForeignKey, TenantOneToOneField))
    }
    assert declared and declared <= in_database, declared - in_database


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


def test_the_distribution_script_names_every_tenant_owned_table_in_foreign_key_order():
    calls = re.findall(r"create_(reference|distributed)_table\('(\w+)'", SCRIPT.read_text())
    order = [table for _, table in calls]
    reference = [table for kind, table in calls if kind == "reference"]
    distributed = [table for kind, table in calls if kind == "distributed"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' "
            "AND table_schema = current_schema()"
        )
        tenant_owned = {table for (table,) in cursor.fetchall()}
        cursor.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid <> confrelid"
        )
        links = cursor.fetchall()
    assert len(order) == len(set(order))
    assert set(reference) == SHARED_TABLES | set(REFERENCE_TABLES)
    assert set(distributed) == tenant_owned - set(REFERENCE_TABLES)
    assert order[: len(reference)] == reference
    for table, target in links:
        if table in order:
            assert target in order and order.index(target) < order.index(table), (table, target)

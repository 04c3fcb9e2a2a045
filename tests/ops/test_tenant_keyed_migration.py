"""The tenant-keyed keys (core.tenant_keys) migrate a database that has data, the demo's, from
the keys before them and back again: no row is lost or changed, and every link, checked by
the database as it adds the tenant-keyed foreign key, points into its own tenant."""

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.tenant_keys import TenantForeignKeyConstraint
from tests.ops.test_citus_readiness import SQL

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def before_tenant_keys() -> list[tuple[str, str]]:
    """Each app's migration before its tenant-keyed keys."""
    graph = MigrationExecutor(connection).loader.graph
    return [
        parent
        for node in graph.nodes
        if node[1].endswith("_tenant_keyed_keys")
        for parent in graph.node_map[node].parents
        if parent.key[0] == node[0]
    ]


def tenant_keyed() -> list[tuple[str, str]]:
    """Each app's last tenant-keyed migration (its links, else its keys), and no later one."""
    graph = MigrationExecutor(connection).loader.graph
    last = {}
    for app, name in sorted(graph.nodes):
        if name.endswith(("_tenant_keyed_keys", "_tenant_keyed_links")):
            last[app] = max(last.get(app, name), name)
    return sorted(last.items())


def tenant_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' "
            "AND table_schema = current_schema() ORDER BY 1"
        )
        return [table for (table,) in cursor.fetchall()]


def contents() -> dict[str, tuple[int, str]]:
    """Each tenant-owned table's row count and a digest of its rows in id order."""
    found = {}
    with connection.cursor() as cursor:
        for table in tenant_tables():
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) "
                f'FROM "{table}" t'
            )
            found[table] = cursor.fetchone()
    return found


def ledger_money() -> tuple:
    """The ledger's entries by what they move (a later migration of their purpose, unapplied on
    the way back, changes how the purpose is stored, not the money)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), md5(coalesce(string_agg(concat_ws(',', id, account_id, amount, "
            "balance_after, kind, idempotency_key, created_at), '|' ORDER BY id), '')) "
            "FROM billing_ledgerentry"
        )
        return cursor.fetchone()


def keys_without_tenant() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(SQL)
        return {index for _, index, _ in cursor.fetchall()}


def tenant_keyed_links() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated "
            "AND conname LIKE %s AND array_length(conkey, 1) = 2",
            ["%tenant_fk"],
        )
        return cursor.fetchone()[0]


@pytest.mark.timeout(1200)  # two passes of some 150 operations, on a machine that may be busy
def test_the_demo_migrates_to_tenant_keyed_keys_and_back(seeded_demo):
    seeded_demo.restore()
    try:
        seeded = contents()
        seeded_money = ledger_money()
        assert seeded["billing_ledgerentry"][0] > 0 and seeded["subscriptions_subscription"][0] > 0
        keyed_links = sum(
            isinstance(constraint, TenantForeignKeyConstraint)
            for model in apps.get_models()
            for constraint in model._meta.constraints
        )
        assert tenant_keyed_links() == keyed_links

        migrate(before_tenant_keys())
        # The data as the keys before the tenant-keyed ones hold it (later migrations of other
        # tables, unapplied on the way back, are not what this compares).
        before = contents()
        assert ledger_money() == seeded_money
        common = seeded.keys() & before.keys()  # no row lost on the way back, in any table
        assert {t: before[t][0] for t in common} == {t: seeded[t][0] for t in common}
        assert {"clients_client_pkey", "billing_account_client_id_key"} <= keys_without_tenant()
        assert tenant_keyed_links() == 0

        migrate(tenant_keyed())
        assert contents() == before
        assert keys_without_tenant() == {"tenancy_apitoken_digest_key"}  # a reference table's
        assert tenant_keyed_links() > 0

        migrate(latest())
        assert keys_without_tenant() == {"tenancy_apitoken_digest_key"}
        assert tenant_keyed_links() == keyed_links
        again = contents()
        assert {t: again[t][0] for t in common} == {t: seeded[t][0] for t in common}
    finally:
        migrate(latest())

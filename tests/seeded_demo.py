"""The demo as `make demo` seeds it, for the tests that look at it (the edit forms' walk, the
connection reasons, the stories). Seeding takes half a minute, so `manage.py seed_demo` runs once
per test database: its tables are copied into a schema of their own, which Django does not see
(a flush leaves it alone), and copied back in a moment for each test that asks for the demo."""

import socket
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, transaction
from django_scopes import scopes_disabled

from routers import demo as routers_demo
from routers.models import Router
from tenancy.models import Tenant

SCHEMA = "seeded_demo"
# Each sequence of the public schema with the table and column that own it.
OWNED_SEQUENCES = """
SELECT sequence.relname, owner.relname, attribute.attname
FROM pg_class sequence
JOIN pg_depend dependency ON dependency.objid = sequence.oid AND dependency.deptype IN ('a', 'i')
JOIN pg_class owner ON owner.oid = dependency.refobjid
JOIN pg_attribute attribute
  ON attribute.attrelid = owner.oid AND attribute.attnum = dependency.refobjsubid
WHERE sequence.relkind = 'S' AND owner.relnamespace = 'public'::regnamespace
"""


class SeededDemo:
    """The copy of the seeded tables and sequences (all but django_migrations and its own, which
    the migration tests move)."""

    def __init__(self) -> None:
        with connection.cursor() as cursor:
            # Columns by name: a migration test that goes back and forth may re-create a table
            # with its columns in another order.
            self.tables = {
                name: ", ".join(
                    f'"{column.name}"'
                    for column in connection.introspection.get_table_description(cursor, name)
                )
                for name in connection.introspection.table_names(cursor)
                if name != "django_migrations"
            }
            cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            cursor.execute(f"CREATE SCHEMA {SCHEMA}")
            for table in self.tables:
                cursor.execute(f'CREATE TABLE {SCHEMA}."{table}" AS TABLE public."{table}"')
            cursor.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
                "AND sequencename <> 'django_migrations_id_seq'"
            )
            self.sequences = cursor.fetchall()

    def restore(self) -> dict[str, Tenant]:
        """Put the database back as seeded (whatever is in it now goes), and give the demo's
        tenants by their short name (`isp`, `reseller`, `sms`)."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE " + ", ".join(f'public."{t}"' for t in self.tables))
            for table, columns in self.tables.items():
                cursor.execute(
                    f'INSERT INTO public."{table}" ({columns}) '
                    f'SELECT {columns} FROM {SCHEMA}."{table}"'
                )
            for sequence, last_value in self.sequences:
                cursor.execute(
                    "SELECT setval(%s::regclass, %s, %s)",
                    [f'public."{sequence}"', last_value or 1, last_value is not None],
                )
            # A table re-created since the copy (a migration test going back and forth) has a
            # new sequence: never below the ids copied back, or the next insert collides.
            cursor.execute(OWNED_SEQUENCES)
            for sequence, table, column in cursor.fetchall():
                cursor.execute(
                    f'SELECT setval(%s::regclass, GREATEST((SELECT MAX("{column}") FROM '
                    f'public."{table}"), (SELECT last_value FROM public."{sequence}")))',
                    [f'public."{sequence}"'],
                )
        ContentType.objects.clear_cache()  # the seeded ids, not those of a flush since
        with scopes_disabled():
            return {t.slug.removeprefix("demo-"): t for t in Tenant.objects.all()}


@pytest.fixture(scope="session")
def seeded_demo(django_db_setup, django_db_blocker) -> SeededDemo:
    """The demo, seeded once for the run (for this pytest-xdist worker's database), the
    database emptied again for the tests that do not use it."""
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
        seeded = SeededDemo()
        call_command("flush", interactive=False, verbosity=0)
    return seeded


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def move_simulated_routers_to_free_ports(tenant) -> None:
    """The demo's simulated routers take ports that were free when it was seeded; other tests
    (another worker's, another checkout's) may listen there by now, so they move to ports free
    now. The offline router stays on its closed port."""
    with scopes_disabled():
        routers = Router.objects.filter(tenant=tenant).exclude(port=routers_demo.CLOSED_PORT)
        for pk in routers.values_list("pk", flat=True):
            Router.objects.filter(pk=pk).update(port=free_port())

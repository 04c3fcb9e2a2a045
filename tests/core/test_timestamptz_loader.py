"""The connection reads `timestamptz` through core/postgresql/base.py's loader, psycopg's
compiled parser with Django's timezone set on the value: the values Django's own loader
reads, to the microsecond and with the same tzinfo."""

from datetime import UTC

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg import ClientCursor
from psycopg.pq import Format

from core.postgresql.base import TimestamptzLoader

pytestmark = pytest.mark.django_db

MOMENTS = [
    "2026-03-29 01:30:00.123456+03",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "1900-01-01 00:00:00-05:30",
    "2026-10-25 02:59:59.999999+01",
]
STATEMENT = "SELECT " + ", ".join(f"'{moment}'::timestamptz" for moment in MOMENTS) + ", NULL"


def read_by_djangos_loader() -> tuple:
    """The statement on the same connection, read by Django's loader of the same timezone."""
    raw = connection.connection
    cursor = ClientCursor(raw)
    register_tzloader(connection.timezone, cursor)
    cursor.execute(STATEMENT)
    return cursor.fetchone()


def test_the_connection_reads_times_through_the_compiled_loader():
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(1184, Format.TEXT)  # timestamptz
    assert issubclass(loader, TimestamptzLoader)
    assert loader.timezone == connection.timezone == UTC


def test_times_are_the_values_djangos_loader_reads():
    with connection.cursor() as cursor:
        cursor.execute(STATEMENT)
        read = cursor.fetchone()
    expected = read_by_djangos_loader()
    assert read == expected
    assert [value.tzinfo for value in read[:-1]] == [value.tzinfo for value in expected[:-1]]
    assert all(value.tzinfo is UTC for value in read[:-1])
    assert read[-1] is None

"""Set-based writes on PostgreSQL that the ORM makes slow: a cursor that binds parameters on
the server, for statements that take whole columns as arrays (`unnest(%s::bigint[], ...)`).

Django's psycopg cursor binds parameters in the client: it quotes every array element into the
statement's text, and PostgreSQL parses and plans that text again each time. Bound on the
server, a statement of a thousand rows sends its arrays as parameters, and psycopg prepares a
statement it has run a few times on a connection, so that a posting of one row is not planned
again either. The cursor goes through Django's wrapper, so that query counts (the tests that
pin them) and execute wrappers see its statements.
"""

import psycopg
from django.db import connection


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def bound_cursor():
    """A cursor for array statements: bound on the server on PostgreSQL, Django's own
    elsewhere (the SQLite demo, whose callers use the ORM instead of arrays)."""
    if not is_postgresql():
        return connection.cursor()
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)

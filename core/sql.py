"""Set-based writes on PostgreSQL that the ORM makes slow: a cursor that binds parameters on
the server, for statements that take whole columns as arrays (`unnest(%s::bigint[], ...)`).

Django's psycopg cursor binds parameters in the client: it quotes every array element into the
statement's text, and PostgreSQL parses and plans that text again each time. Bound on the
server, a statement of a thousand rows sends its arrays as parameters. Django turns psycopg's
prepared statements off (`prepare_threshold` None), so a hot statement asks for its own
(`bound_cursor(prepared=True)`): the single posting's statements are then planned once per
connection instead of once per posting. The cursor goes through Django's wrapper, so that
query counts (the tests that pin them) and execute wrappers see its statements.
"""

import sys
from datetime import date, datetime
from functools import cache

import psycopg
from django.db import connection, connections
from django.db.models import DateField, DateTimeField, Field, TimeField
from django.db.models.base import ModelState


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


class _PreparedCursor(psycopg.Cursor):
    """Every statement prepared on the server at its first run, then executed by name."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)

    def _send_query_prepared(self, name, pgq, *, binary=None):
        self._query = pgq  # what Django's query log reads as the statement run, as unprepared
        return super()._send_query_prepared(name, pgq, binary=binary)


# psycopg prepares what it is asked to, and nothing by itself: Django's own cursors bind in
# the client and are never prepared, and the array statements of the jobs keep the plans
# made for the size of each chunk.
_PREPARE_ONLY_WHEN_ASKED = sys.maxsize


def bound_cursor(*, prepared: bool = False):
    """A cursor for array statements: bound on the server on PostgreSQL, Django's own
    elsewhere (the SQLite demo, whose callers use the ORM instead of arrays). `prepared`: for
    statements of fixed shape run on every request (a single posting's), which PostgreSQL
    then plans once per connection."""
    if not is_postgresql():
        return connection.cursor()
    connection.ensure_connection()
    if prepared:
        if connection.connection.prepare_threshold is None:
            connection.connection.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
        raw = _PreparedCursor(connection.connection)
    else:
        raw = psycopg.Cursor(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def array_param(db_type: str) -> str:
    """The placeholder of a column sent as an array, `%b::bigint[]`: bound in binary, so that
    psycopg sends each element as it is. In text it quotes and backslash-escapes every element
    into an array literal, which for a thousand JSON descriptions (their double quotes) took
    longer than the statement that wrote them; PostgreSQL then parses the literal back."""
    return f"%b::{db_type}[]"


def scalar_param(db_type: str) -> str:
    """The placeholder of one value in a statement whose other form takes the column as an
    array (`array_param`), typed the same: `%s::bigint`."""
    return f"%s::{db_type}"


def cached_plans_discard() -> None:
    """Make PostgreSQL plan this session's statements again, the foreign keys' checks among
    them. A check's plan is made once per connection, at its first use: a job that fills a
    table from nearly empty (the first import of a new installation) would otherwise check
    every later row with the plan of a table of a few rows, a scan of the whole table, so that
    each chunk's commit costs more than the one before. A job that grows a table calls this
    before each chunk; the SQLite demo has nothing to discard."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("DISCARD PLANS")


def unnest_arrays(fields) -> str:
    """`unnest(%b::type[], ...)`: rows of these model fields, each column one array bound on the
    server in binary, typed by its field (varchar, numeric, timestamptz, ...); the statement's
    parameters are the columns, in the fields' order."""
    arrays = ", ".join(array_param(field.db_type(connection).split("(")[0]) for field in fields)
    return f"unnest({arrays})"


def objects_insert(objects: list, *, skip_conflicts: bool = False) -> list[int] | None:
    """Insert new instances of one model in one statement, each column an array bound on the
    server in binary, and give each its id. Django's bulk_create quotes every value into the
    statement's text, which for a chunk of a thousand clients of forty columns was a third of
    the chunk's writing. Values are prepared as the ORM prepares them (`pre_save`, then
    `get_db_prep_save`); the SQLite demo takes bulk_create itself. `skip_conflicts`: a row
    that a unique constraint already holds is left out (ON CONFLICT DO NOTHING), and no
    instance is given its id: the ids of the rows written are returned instead (None on the
    SQLite demo, where the caller reads what it needs; nothing to insert is always [])."""
    if not objects:
        return []
    model = type(objects[0])
    if not is_postgresql():
        model._base_manager.bulk_create(objects, ignore_conflicts=skip_conflicts)
        return None
    meta, quote = model._meta, connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    columns = [_column(field, objects) for field in fields]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608 - names are the model's
        f"SELECT * FROM {unnest_arrays(fields)} "
    )
    conflicts = "ON CONFLICT DO NOTHING " if skip_conflicts else ""
    with bound_cursor() as cursor:
        cursor.execute(sql + f"{conflicts}RETURNING {quote(meta.pk.column)}", columns)
        ids = [row[0] for row in cursor.fetchall()]
    if skip_conflicts:
        return ids
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return ids


def _column(field, objects: list) -> list:
    """A column's values as the ORM saves them (`pre_save`, then `get_db_prep_save`). A field
    that saves its attribute as it is prepares each distinct plain value once: most of a new
    client's forty columns hold the same few values (blank, a default, the tenant, the one
    time of the chunk), and preparing each again cost a third of writing the chunk. The
    connection itself is passed, not its thread-local proxy (a lookup per value)."""
    db = connections[connection.alias]
    if not _saves_attribute(field):  # auto_now and the like: per object
        return [field.get_db_prep_save(field.pre_save(obj, True), db) for obj in objects]
    attname, prepared, values = field.attname, {}, []
    for obj in objects:
        value = getattr(obj, attname)
        if type(value) not in _PLAIN:
            values.append(field.get_db_prep_save(value, db))
            continue
        key = (type(value), value)
        if key not in prepared:
            prepared[key] = field.get_db_prep_save(value, db)
        values.append(prepared[key])
    return values


def _saves_attribute(field) -> bool:
    """The field saves its attribute as it is: its pre_save is Field's, or a date's or time's
    without auto_now or auto_now_add (they override pre_save for those two alone)."""
    pre_save = type(field).pre_save
    if pre_save in _DATE_PRE_SAVES:
        return not (field.auto_now or field.auto_now_add)
    return pre_save is Field.pre_save


_DATE_PRE_SAVES = (DateField.pre_save, DateTimeField.pre_save, TimeField.pre_save)

# Values whose preparation depends on the value alone (equal values of one type prepare alike).
_PLAIN = frozenset({str, int, bool, type(None), datetime, date})


def instance_copy(instance):
    """A new model instance with the same field values, not yet saved: what `copy.copy` makes
    through pickling's path (Model.__reduce__, __getstate__, __setstate__), at a fraction of
    its cost, for writers that build thousands of rows from one template."""
    clone = object.__new__(type(instance))
    clone.__dict__.update(instance.__dict__)
    state = ModelState()
    state.__dict__.update(instance._state.__dict__)
    state.fields_cache = dict(instance._state.fields_cache)
    clone._state = state
    return clone


# -- statements written once -------------------------------------------------------------------
def columns_of(model, alias: str) -> list[str]:
    """`alias.column` for each of the model's concrete fields, in their order, for a SELECT
    whose rows `row_instances` reads."""
    quote = connection.ops.quote_name
    return [f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields]


@cache
def _converters(model) -> list[tuple]:
    """Per concrete field, its column and what the ORM applies to a value read from the
    database (a date of SQLite, a decimal): the backend's converters, then the field's."""
    converters = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        applied = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
        converters.append((column, applied))
    return converters


def row_instances(row, *models) -> list:
    """One instance of each model from a row that holds each model's `columns_of` in turn, its
    values converted as the ORM converts them: for a hot statement written once instead of a
    queryset composed on every call."""
    instances, start = [], 0
    for model in models:
        fields = model._meta.concrete_fields
        values = list(row[start : start + len(fields)])
        for position, (column, converters) in enumerate(_converters(model)):
            for converter in converters:
                values[position] = converter(values[position], column, connection)
        instances.append(model.from_db(connection.alias, [f.attname for f in fields], values))
        start += len(fields)
    return instances

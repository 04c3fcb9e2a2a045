"""`field__any=values`: membership in a chunk's worth of values as one array parameter.

`field__in=[...]` writes one placeholder per value: for the thousand ids of a bulk job's chunk
psycopg splits and quotes a statement of a thousand parameters and PostgreSQL parses a
thousand constants, each time, which cost a bulk hold a tenth of its time over four such
statements a chunk. `field__any` sends the values as one array (`= ANY(%s::bigint[])`) on
PostgreSQL, and is `IN` elsewhere (the demo's SQLite). It takes values (ids, or instances on
a relation), never a subquery: use it for lists of a chunk's size, and `__in` for a few values
and for subqueries. None matches nothing, as in `__in`.
"""

import re
from collections.abc import Iterable

from django.db.models import Field, ForeignObject, Lookup, Model, QuerySet
from django.db.models.lookups import In

_LENGTH = re.compile(r"\(.*\)$")  # varchar(120) -> varchar: a cast to it would cut values


@ForeignObject.register_lookup  # related fields take lookups from ForeignObject down
@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any"

    def get_prep_lookup(self):
        rhs = self.rhs
        plain = isinstance(rhs, Iterable) and not isinstance(rhs, QuerySet | str | bytes)
        if not plain or hasattr(rhs, "resolve_expression"):
            raise TypeError("field__any takes a list of values; a subquery goes through __in.")
        field = self.lhs.output_field
        target = getattr(field, "target_field", None)
        values = []
        for value in rhs:
            if isinstance(value, Model) and target is not None:
                value = getattr(value, target.attname)
            if value is not None:
                values.append(field.get_prep_value(value))
        return values

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql" or not self.rhs:
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        db_type = _LENGTH.sub("", field.cast_db_type(connection))
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, values]

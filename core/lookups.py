"""`field__any=values`: membership in a chunk's worth of values as one array parameter.

`field__in=[...]` writes one placeholder per value: for the thousand ids of a bulk job's chunk
psycopg splits and quotes a statement of a thousand parameters and PostgreSQL parses a
thousand constants, each time, which cost a bulk hold a tenth of its time over four such
statements a chunk. `field__any` sends the values as one array (`= ANY(%s::bigint[])`) on
PostgreSQL, and is `IN` elsewhere (the demo's SQLite). Use it for lists of a chunk's size;
`__in` stays the way for a few values and for subqueries.
"""

from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In


@ForeignObject.register_lookup  # related fields take lookups from ForeignObject down
@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any"

    def get_prep_lookup(self):
        prepare = self.lhs.output_field.get_prep_value
        return [prepare(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        if connection.vendor != "postgresql" or not self.rhs:
            return In(self.lhs, self.rhs).as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        db_type = self.lhs.output_field.cast_db_type(connection)
        values = [
            self.lhs.output_field.get_db_prep_value(value, connection, prepared=True)
            for value in self.rhs
        ]
        return f"{lhs} = ANY(%s::{db_type}[])", [*lhs_params, values]

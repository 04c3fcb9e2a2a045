"""Tenant-keyed database keys, so that every tenant-owned table can be distributed by
`tenant_id` (Citus needs every primary key, unique constraint and foreign key of a distributed
table to include it).

- `TenantField` is the `tenant` of a tenant-owned row. Its table's primary key becomes
  (tenant_id, id), with a plain index on `id` for joins and `pk=` lookups; Django still sees
  `id` as the primary key (ids come from one sequence, so they stay unique).
- `TenantForeignKey` / `TenantOneToOneField` link a tenant's row to another row of the same
  tenant. In the database the link is FOREIGN KEY (tenant_id, x_id) REFERENCES target
  (tenant_id, id): a row can never point into another tenant. A one-to-one link is unique on
  (tenant_id, x_id) instead of (x_id); Django keeps treating it as one-to-one.

Each field adds its constraint to its model's Meta constraints, so `makemigrations` writes the
AddConstraint operations itself. The SQL is PostgreSQL's; on another database (the SQLite
demo) the constraints emit nothing. The system check `core.E010` refuses a plain ForeignKey
between tenant-keyed models.
"""

from django.apps import apps as global_apps
from django.core import checks
from django.db import models
from django.db.backends.utils import truncate_name

MAX_NAME = 63  # PostgreSQL's identifier length


def _identifier(*parts: str) -> str:
    return truncate_name("_".join(parts), MAX_NAME)


def _on_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _drop_constraints_sql(table: str, *, kind: str, column: str | None = None) -> str:
    """Drop the constraints of `kind` ('p' primary key, 'u' unique) on `table`, only those on
    `column` alone when given: their names differ with how the table was made."""
    on_column = (
        f" AND con.conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = "
        f"con.conrelid AND attname = '{column}')]::int2[]"
        if column
        else ""
    )
    return (
        "DO $$ DECLARE name text; BEGIN "
        f"FOR name IN SELECT con.conname FROM pg_constraint con "
        f"WHERE con.conrelid = '\"{table}\"'::regclass AND con.contype = '{kind}'{on_column} "
        f"LOOP EXECUTE 'ALTER TABLE \"{table}\" DROP CONSTRAINT ' || quote_ident(name); "
        "END LOOP; END $$"
    )


class _KeyConstraint(models.BaseConstraint):
    """A constraint written as SQL statements: `create_statements` adds it to an existing
    table, `remove_statements` restores what was there. In CREATE TABLE it runs after the
    table (and the tables before it in the migration) exist."""

    def create_statements(self, model, schema_editor) -> list[str]:
        raise NotImplementedError

    def remove_statements(self, model, schema_editor) -> list[str]:
        raise NotImplementedError

    def constraint_sql(self, model, schema_editor):
        if _on_postgresql(schema_editor):
            schema_editor.deferred_sql.extend(self.create_statements(model, schema_editor))
        return None

    def create_sql(self, model, schema_editor):
        if not _on_postgresql(schema_editor):
            return None
        return "; ".join(self.create_statements(model, schema_editor))

    def remove_sql(self, model, schema_editor):
        if not _on_postgresql(schema_editor):
            return None
        return "; ".join(self.remove_statements(model, schema_editor))

    def validate(self, model, instance, exclude=None, using=None):
        """The database's check; the forms and services check what an operator can get wrong."""

    def __eq__(self, other):
        return isinstance(other, self.__class__) and self.deconstruct() == other.deconstruct()

    def __hash__(self):
        return hash(self.name)


class TenantPrimaryKey(_KeyConstraint):
    """PRIMARY KEY (tenant_id, id) and a plain index on id, in place of PRIMARY KEY (id)."""

    def create_statements(self, model, schema_editor) -> list[str]:
        table, quote = model._meta.db_table, schema_editor.quote_name
        tenant = model._meta.get_field("tenant").column
        pk = model._meta.pk.column
        return [
            _drop_constraints_sql(table, kind="p"),
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(self.name)} "
            f"PRIMARY KEY ({quote(tenant)}, {quote(pk)})",
            f"CREATE INDEX {quote(_identifier(table, pk, 'idx'))} ON {quote(table)} ({quote(pk)})",
        ]

    def remove_statements(self, model, schema_editor) -> list[str]:
        table, quote = model._meta.db_table, schema_editor.quote_name
        pk = model._meta.pk.column
        return [
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(self.name)}",
            f"DROP INDEX {quote(_identifier(table, pk, 'idx'))}",
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(_identifier(table, 'pkey'))} "
            f"PRIMARY KEY ({quote(pk)})",
        ]


class TenantForeignKeyConstraint(_KeyConstraint):
    """FOREIGN KEY (tenant_id, x_id) REFERENCES target (tenant_id, id) for the link `field`;
    with `one_to_one`, also UNIQUE (tenant_id, x_id) and a plain index on x_id in place of
    UNIQUE (x_id)."""

    def __init__(self, *, field: str, name: str, one_to_one: bool = False):
        self.field = field
        self.one_to_one = one_to_one
        super().__init__(name=name)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["field"] = self.field
        if self.one_to_one:
            kwargs["one_to_one"] = True
        return path, args, kwargs

    def _names(self, model):
        link = model._meta.get_field(self.field)
        target = link.related_model._meta
        return (
            model._meta.db_table,
            model._meta.get_field("tenant").column,
            link.column,
            target.db_table,
            target.get_field("tenant").column,
            link.target_field.column,
        )

    def create_statements(self, model, schema_editor) -> list[str]:
        quote = schema_editor.quote_name
        table, tenant, column, target, target_tenant, target_column = self._names(model)
        statements = [
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(self.name)} "
            f"FOREIGN KEY ({quote(tenant)}, {quote(column)}) "
            f"REFERENCES {quote(target)} ({quote(target_tenant)}, {quote(target_column)}) "
            "DEFERRABLE INITIALLY DEFERRED"
        ]
        if self.one_to_one:
            statements += [
                _drop_constraints_sql(table, kind="u", column=column),
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT "
                f"{quote(_identifier(table, column, 'tenant_key'))} "
                f"UNIQUE ({quote(tenant)}, {quote(column)})",
                f"CREATE INDEX {quote(_identifier(table, column, 'idx'))} "
                f"ON {quote(table)} ({quote(column)})",
            ]
        return statements

    def remove_statements(self, model, schema_editor) -> list[str]:
        quote = schema_editor.quote_name
        table, _, column, *_ = self._names(model)
        statements = [f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(self.name)}"]
        if self.one_to_one:
            statements += [
                f"DROP INDEX {quote(_identifier(table, column, 'idx'))}",
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT "
                f"{quote(_identifier(table, column, 'tenant_key'))}",
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT "
                f"{quote(_identifier(table, column, 'key'))} UNIQUE ({quote(column)})",
            ]
        return statements


def _add_constraint(model, constraint, *, first: bool = False) -> None:
    """Add a field's constraint to its model once. The primary key goes first: links to the
    model's own rows need it. A model rebuilt from migrations gets none from its fields: it has
    exactly the constraints its migrations added, so that creating a new table and then adding
    its constraints (what makemigrations writes for a new model) creates each one once."""
    constraints = model._meta.constraints
    if model._meta.abstract or any(c.name == constraint.name for c in constraints):
        return
    if model._meta.apps is not global_apps:  # a model of a migration's state
        return
    model._meta.constraints = [constraint, *constraints] if first else [*constraints, constraint]
    # What migrations read of a model's Meta, also when the model declares no constraints.
    model._meta.original_attrs["constraints"] = model._meta.constraints


class TenantField(models.ForeignKey):
    """The tenant of a tenant-owned row: its table's primary key is (tenant_id, id)."""

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        table = cls._meta.db_table
        _add_constraint(cls, TenantPrimaryKey(name=_identifier(table, "tenant_pkey")), first=True)


class _TenantLink:
    """What the two tenant-keyed link fields share: no single-column constraint of Django's,
    the tenant-keyed one instead."""

    one_to_one = False

    def __init__(self, *args, **kwargs):
        kwargs["db_constraint"] = False
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("db_constraint", None)
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        constraint = TenantForeignKeyConstraint(
            field=name,
            name=_identifier(cls._meta.db_table, self.column, "tenant_fk"),
            one_to_one=self.one_to_one,
        )
        _add_constraint(cls, constraint)


class TenantForeignKey(_TenantLink, models.ForeignKey):
    """A link from a tenant's row to another row of the same tenant."""


class TenantOneToOneField(_TenantLink, models.OneToOneField):
    """A one-to-one link between two rows of the same tenant (client.account stays)."""

    one_to_one = True


def is_tenant_keyed(model) -> bool:
    return any(isinstance(field, TenantField) for field in model._meta.fields)


def link_errors(models) -> list[checks.Error]:
    """The links of `models` to a tenant's rows that are not keyed by tenant (core.E010)."""
    errors = []
    for model in models:
        for field in [*model._meta.local_fields, *model._meta.local_many_to_many]:
            if not field.is_relation or isinstance(field, TenantField):
                continue
            target_keyed = isinstance(field.related_model, type) and is_tenant_keyed(
                field.related_model
            )
            if isinstance(field, _TenantLink) and not target_keyed:
                message = f"{field} is keyed by tenant, but what it links to has no tenant."
                hint = "Use a plain ForeignKey or OneToOneField to rows that no tenant owns."
            elif not target_keyed:
                continue
            elif field.many_to_many:
                message = f"{field} is a many-to-many link to a tenant's rows."
                hint = "Link through a tenant-owned model with two TenantForeignKeys."
            elif getattr(field, "to_fields", [None])[0] not in (None, "id"):
                message = f"{field} links to a column other than the primary key."
                hint = "A tenant-keyed link points at (tenant_id, id)."
            elif not is_tenant_keyed(model):
                message = f"{field} links to a tenant's rows from a model without a tenant."
                hint = "Give the model `tenant = TenantField(...)` (TenantOwnedModel has it)."
            elif not isinstance(field, _TenantLink):
                kind = "TenantOneToOneField" if field.one_to_one else "TenantForeignKey"
                message = f"{field} links two tenant-owned models without the tenant."
                hint = f"Use core.tenant_keys.{kind}: it keys the link by (tenant_id, id)."
            else:
                continue
            errors.append(checks.Error(message, hint=hint, obj=field, id="core.E010"))
    return errors


@checks.register(checks.Tags.models)
def check_links_are_tenant_keyed(app_configs=None, **kwargs):
    """Every link to a tenant-owned row is tenant-keyed, and comes from a tenant-owned row."""
    from django.apps import apps

    configs = app_configs or apps.get_app_configs()
    return link_errors(model for config in configs for model in config.get_models())

"""The PostgreSQL backend (as django-prometheus instruments it) for tenant-keyed tables.

A tenant-keyed table's primary key is (tenant_id, id) (core.tenant_keys), so GROUP BY id alone
no longer lets PostgreSQL select the row's other columns: Django groups such a model by every
selected column instead, and keeps grouping other models by their primary key."""

from django.db.backends.postgresql.features import DatabaseFeatures as PostgresqlFeatures
from django_prometheus.db.backends.postgresql import base

from core.tenant_keys import is_tenant_keyed


class DatabaseFeatures(PostgresqlFeatures):
    def allows_group_by_selected_pks_on_model(self, model) -> bool:
        return super().allows_group_by_selected_pks_on_model(model) and not is_tenant_keyed(model)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures

"""The PostgreSQL backend (as django-prometheus instruments it) for tenant-keyed tables, with
health checks that skip a connection which has just answered.

A tenant-keyed table's primary key is (tenant_id, id) (core.tenant_keys), so GROUP BY id alone
no longer lets PostgreSQL select the row's other columns: Django groups such a model by every
selected column instead, and keeps grouping other models by their primary key.

Health checks (`CONN_HEALTH_CHECKS`): Django asks a persistent connection `SELECT 1` before
every request that uses it, so that a connection the server or a firewall dropped while it
sat idle is replaced instead of failing the request. On a page of the API that is a third of
its round trips to the server (a loaded machine makes each one wait for a CPU). A connection
that served a request without error less than HEALTH_CHECK_FRESH_SECONDS ago is not asked
again: an idle connection is still checked, and one that failed is checked and replaced at the
end of its request, as Django does."""

import time

from django.db.backends.postgresql.features import DatabaseFeatures as PostgresqlFeatures
from django_prometheus.db.backends.postgresql import base

from core.tenant_keys import is_tenant_keyed

HEALTH_CHECK_FRESH_SECONDS = 1.0


class DatabaseFeatures(PostgresqlFeatures):
    def allows_group_by_selected_pks_on_model(self, model) -> bool:
        return super().allows_group_by_selected_pks_on_model(model) and not is_tenant_keyed(model)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    answered_at: float | None = None  # when a request last used the connection without error

    def close_if_unusable_or_obsolete(self):
        """Django's checks at a request's start and end; at the end of one that used the
        connection (its health check done) without a database error, the time."""
        answered = self.connection is not None and self.health_check_done
        answered = answered and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if self.connection is None:
            self.answered_at = None
        elif answered:
            self.answered_at = time.monotonic()

    def close_if_health_check_failed(self):
        answered = self.answered_at
        if (
            self.connection is not None
            and answered is not None
            and time.monotonic() - answered < HEALTH_CHECK_FRESH_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

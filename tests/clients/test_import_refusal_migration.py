"""An import's refused rows move from its JSON list to a row each, in order, and back."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("clients", "0008_activity_into_events"), ("tenancy", "0007_tenant_event_retention_days")]
AFTER = [("clients", "0011_import_refusal_rows")]
ROWS = [
    {"line": 3, "field": "E-mail", "reason": "Enter a valid email address.", "cells": ["R1", "x"]},
    {"line": 9, "field": "", "reason": "Two rows of one client.", "cells": ["R1", None]},
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_refused_rows_become_rows_and_go_back(back_to_latest):
    old = migrate(BEFORE)
    tenant = old.get_model("tenancy", "Tenant").objects.create(name="M", slug="migrated")
    imports = old.get_model("clients", "ClientImport")
    job = imports.objects.create(tenant=tenant, file="a.csv", file_name="a.csv", refused=ROWS)
    imports.objects.create(tenant=tenant, file="b.csv", file_name="b.csv")
    new = migrate(AFTER)
    refusal = new.get_model("clients", "ClientImportRefusal")
    moved = list(refusal.objects.order_by("line").values("job", "line", "field", "reason", "cells"))
    assert moved == [{"job": job.pk, **row} for row in ROWS]
    assert refusal.objects.filter(tenant_id=tenant.pk).count() == 2
    back = migrate(BEFORE)
    assert back.get_model("clients", "ClientImport").objects.get(pk=job.pk).refused == ROWS

"""The runs recorded before JobRun moved to core survive the move (ids kept, and new runs
numbered after them)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("holds", "0002_leases"), ("core", None)]
AFTER = [("holds", "0003_jobrun_moved_to_core"), ("core", "0001_jobrun")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1]]).apps


def test_runs_are_copied_to_core_with_their_ids(tenant):
    old_apps = migrate(BEFORE)
    try:
        old_run = old_apps.get_model("holds", "JobRun")
        old_run._base_manager.create(
            id=41, tenant_id=tenant.pk, job="expiry", status="ok", result={"expired": 3}
        )
        new_apps = migrate(AFTER)
        runs = new_apps.get_model("core", "JobRun")._base_manager
        moved = runs.get()
        assert (moved.pk, moved.job, moved.result) == (41, "expiry", {"expired": 3})
        assert runs.create(tenant_id=tenant.pk, job="expiry").pk > 41
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

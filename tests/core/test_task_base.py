"""The one Celery task base: every task of the project's apps is built on it; a tenant task
loads the active tenant (and its object) from ids, runs in the tenant's scope, and returns
quietly when either is gone; callers are checked against the ids the task takes."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django_scopes import get_scope

from config.celery import app
from core.tasks import ProjectTask, tenant_task
from tests.factories import ClientFactory

PROJECT_ROOT = Path(settings.BASE_DIR)
PROJECT_APPS = {
    config.name for config in apps.get_app_configs() if Path(config.path).parent == PROJECT_ROOT
}


def project_tasks():
    app.loader.import_default_modules()
    return {
        name: task
        for name, task in app.tasks.items()
        if name.split(".")[0] in PROJECT_APPS and not name.startswith("tests.")
    }


def test_every_project_task_is_built_on_the_base():
    tasks = project_tasks()
    assert {
        "holds.tasks.financial_holds_run",
        "subscriptions.tasks.expiry_run",
        "clients.tasks.client_access_fanout",
        "exports.tasks.export_job_run",
        "core.tasks.leases_sweep",
    } <= set(tasks)
    off_base = sorted(name for name, task in tasks.items() if not isinstance(task, ProjectTask))
    assert off_base == []


def test_tasks_state_no_option_that_settings_give():
    """acks_late and the time limits come from settings (CELERY_TASK_*), once."""
    for path in PROJECT_ROOT.glob("*/tasks.py"):
        assert "acks_late=" not in path.read_text(), path


def test_beat_schedule_names_registered_tasks():
    tasks = project_tasks()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in tasks


# A task defined here for the test only: it reports what it was given.
@tenant_task(model="clients.Client", gone="gone")
def client_task_for_test(client, word: str, *, loud: bool = False) -> dict:
    scoped = get_scope().get("tenant")
    return {"client": client.pk, "tenant": client.tenant.pk, "scope": scoped.pk, "word": word}


@tenant_task(tenants={"uses_messaging": True})
def tenant_task_for_test(tenant, word: str) -> str:
    return f"{tenant.slug}:{word}:{get_scope()['tenant'].pk}"


@pytest.mark.django_db
def test_tenant_task_loads_tenant_and_object_in_scope(tenant):
    customer = ClientFactory(tenant=tenant)
    assert client_task_for_test(customer.pk, "hi", tenant_id=tenant.pk) == {
        "client": customer.pk,
        "tenant": tenant.pk,
        "scope": tenant.pk,
        "word": "hi",
    }
    assert tenant_task_for_test(tenant.pk, "hi") == f"{tenant.slug}:hi:{tenant.pk}"


@pytest.mark.django_db
def test_tenant_task_returns_quietly_when_gone(tenant, other_tenant):
    customer = ClientFactory(tenant=tenant)
    assert client_task_for_test(customer.pk, "x", tenant_id=other_tenant.pk) == "gone"
    assert client_task_for_test(10**9, "x", tenant_id=tenant.pk) == "gone"
    assert client_task_for_test(customer.pk, "x", tenant_id=10**9) == "gone"
    tenant.is_active = False
    tenant.save()
    assert client_task_for_test(customer.pk, "x", tenant_id=tenant.pk) == "gone"
    assert tenant_task_for_test(tenant.pk, "x") is None
    other_tenant.uses_messaging = False
    other_tenant.save()
    assert tenant_task_for_test(other_tenant.pk, "x") is None


def test_callers_are_checked_against_the_ids_the_task_takes():
    with pytest.raises(TypeError):
        client_task_for_test.delay(1, "x")  # no tenant_id
    with pytest.raises(TypeError):
        client_task_for_test.delay(1, "x", tenant_id=1, shout=True)
    with pytest.raises(TypeError):
        tenant_task_for_test.delay(1, "x", "extra")


def test_subscriptions_import_nothing_of_holds():
    """The dependency runs one way: holds builds on subscriptions, which offers a hook."""
    for path in (PROJECT_ROOT / "subscriptions").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(n == "holds" or n.startswith("holds.") for n in names), path

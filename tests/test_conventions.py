"""The house rules that a reader relies on, kept by tests rather than by memory.

- Dependencies run one way (the import-linter contracts in pyproject.toml).
- Every domain app keeps the same shape: models, services, views, urls, admin, templates of its
  own, so that a reader knows where to look.
- Every tenant-owned model is scoped (an unscoped query fails loudly) and every list page's
  table is built on the one base table.
"""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import django_tables2 as tables
import pytest
from django.apps import apps
from django.core.management import call_command

from tenancy.models import TenantOwnedModel
from tenancy.tables import BaseTable

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = [
    "events",
    "clients",
    "billing",
    "subscriptions",
    "holds",
    "routers",
    "messaging",
    "exports",
]
APP_SHAPE = ("apps.py", "models.py", "services.py", "views.py", "urls.py", "admin.py")


def test_imports_follow_the_layers():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_every_domain_app_keeps_the_shape(app):
    folder = ROOT / app
    missing = [name for name in APP_SHAPE if not (folder / name).exists()]
    assert not missing, f"{app} lacks {missing}"
    templates = folder / "templates"
    if templates.exists():
        others = [p.name for p in templates.iterdir() if p.is_dir() and p.name != app]
        assert not others, f"{app}/templates holds other apps' folders: {others}"


@pytest.mark.parametrize(
    "model",
    [m for m in apps.get_models() if issubclass(m, TenantOwnedModel)],
    ids=lambda m: m._meta.label,
)
def test_every_tenant_owned_model_is_scoped(model):
    manager = type(model._default_manager)
    assert manager.__module__ == "django_scopes.manager", f"{model._meta.label} is not scoped"


def _project_tables():
    for app in ["tenancy", *DOMAIN_APPS]:
        if not (ROOT / app / "tables.py").exists():
            continue
        module = importlib.import_module(f"{app}.tables")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, tables.Table)
                and value.__module__ == module.__name__
            ):
                yield value


# Tables that are not lists of rows an operator pages through, and why.
NOT_LISTS = {
    "DashboardTable": "the dashboard's first rows, soonest first: no paging, no chooser",
    "StatisticsTable": "a report's aggregated rows, sorted in memory, with a totals row",
}


@pytest.mark.parametrize("table", list(_project_tables()), ids=lambda t: t.__qualname__)
def test_every_list_table_is_built_on_the_base_table(table):
    bases = {base.__name__ for base in table.__mro__}
    assert issubclass(table, BaseTable) or bases & set(NOT_LISTS), (
        f"{table.__module__}.{table.__qualname__} is neither a BaseTable nor named in NOT_LISTS"
    )


PROJECT_PACKAGES = ["core", "access", "tenancy", *DOMAIN_APPS, "config"]


def _function_level_imports():
    """(place, line) of every import of a project module inside a function, but for
    AppConfig.ready() (where Django wants them: the models are loaded by then)."""
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            source = path.read_text()
            lines = source.splitlines()
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if node.name == "ready":
                    continue
                for inner in ast.walk(node):
                    if not isinstance(inner, ast.Import | ast.ImportFrom):
                        continue
                    module = inner.module if isinstance(inner, ast.ImportFrom) else ""
                    relative = getattr(inner, "level", 0) > 0
                    names = [module or ""] + [alias.name for alias in inner.names]
                    if relative or any(n.split(".")[0] in PROJECT_PACKAGES for n in names):
                        place = f"{path.relative_to(ROOT)}:{inner.lineno}"
                        yield place, lines[inner.lineno - 1]


def test_function_level_imports_say_why():
    """An import inside a function only where a circle is truly unavoidable, and it says so on
    its line; anywhere else the import belongs at the top of the module."""
    silent = [place for place, line in _function_level_imports() if "#" not in line]
    assert not silent, "imports inside functions without a reason: " + ", ".join(silent)


@pytest.mark.django_db
def test_the_models_and_their_migrations_agree():
    """A model changed without its migration fails here, and so does a hand-written migration
    that forgot a tenant-keyed constraint (models rebuilt from migrations take their
    constraints from the migrations alone)."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)

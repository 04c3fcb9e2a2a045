"""The one base of every Celery task of the project, and the Celery entry points of core.
Beat's schedule is in config/celery.py.

Tasks are thin: they take ids (the tenant's too), reload, return quietly when what they name
is gone, and call a service. `tenant_task` writes that preamble once:

    @tenant_task(model="exports.ExportJob")
    def export_job_run(job):                 # called as export_job_run(job_id, tenant_id=...)
        return export_job_execute(job=job).status

    @tenant_task()
    def financial_holds_run(tenant):         # called as financial_holds_run(tenant_id)
        ...

- the tenant is loaded by id, active only (and matching `tenants`, e.g. {"uses_messaging":
  True}); gone or inactive, the task returns `gone` without doing anything;
- the work runs inside `django_scopes.scope(tenant=...)` and the tenant's date and time formats
  (`core.formatting.tenant_formatting`), in the language of whoever started it (a job row's
  `language`, core.languages.StartedInLanguage), else the tenant's, else English;
- with `model` ("app_label.Model"), the object is reloaded by the id given first, within the
  tenant (gone: `gone` again), and handed over with its `tenant` set;
- `bind=True` hands the task itself first (for `self.retry`).

Tasks without a tenant (beat's fan-outs, sweeps) use `project_task`. Both build on
`ProjectTask`; acks_late, time limits and the rest come from settings (CELERY_TASK_*), a task
states only what is special to it. `tests/core/test_task_base.py` checks that every task of
the project is built on the base.
"""

import inspect
from collections.abc import Callable

from celery import Task, shared_task
from django.apps import apps
from django.utils import translation
from django_scopes import scope

from .formatting import tenant_formatting
from .languages import StartedInLanguage, offered, tenant_language

_GONE = object()


class ProjectTask(Task):
    """The base class of every task of the project's apps."""


def project_task(*args, **options):
    """`shared_task` on the project's base, for tasks that take no tenant."""
    options.setdefault("base", ProjectTask)
    return shared_task(*args, **options)


def active_tenant(tenant_id: int, **filters):
    """The active tenant with this id (and these field values), or None."""
    tenant_model = apps.get_model("tenancy", "Tenant")
    return tenant_model.objects.filter(pk=tenant_id, is_active=True, **filters).first()


def tenants_fan_out(task, **filters) -> int:
    """Beat's fan-out: queue `task` once per active tenant (matching `filters`)."""
    tenant_model = apps.get_model("tenancy", "Tenant")
    ids = list(tenant_model.objects.filter(is_active=True, **filters).values_list("pk", flat=True))
    for tenant_id in ids:
        task.delay(tenant_id)
    return len(ids)


def work_language(first, tenant) -> str:
    """The language a task writes in: the starter's, stored on a job row (StartedInLanguage),
    else the tenant's, else English. No request is active in a worker."""
    if isinstance(first, StartedInLanguage) and (found := offered(first.language)):
        return found
    return tenant_language(tenant)


def _reload(model: str, tenant, object_id):
    obj = apps.get_model(model).objects.for_tenant(tenant).filter(pk=object_id).first()
    if obj is not None:
        obj.tenant = tenant
    return obj


def _task_signature(func: Callable, *, model: str | None, bind: bool) -> inspect.Signature:
    """What callers pass: the first parameter (tenant, or the object) becomes its id."""
    params = list(inspect.signature(func).parameters.values())
    if bind:
        params = params[1:]
    first, rest = params[0], params[1:]
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    if model is None:
        head = [inspect.Parameter("tenant_id", positional)]
        return inspect.Signature([inspect.Parameter("self", positional), *head, *rest])
    head = [inspect.Parameter(f"{first.name}_id", positional)]
    keyword = [p for p in rest if p.kind == inspect.Parameter.KEYWORD_ONLY]
    others = [p for p in rest if p.kind != inspect.Parameter.KEYWORD_ONLY]
    tail = [inspect.Parameter("tenant_id", inspect.Parameter.KEYWORD_ONLY), *keyword]
    return inspect.Signature([inspect.Parameter("self", positional), *head, *others, *tail])


def tenant_task(
    *,
    model: str | None = None,
    tenants: dict | None = None,
    gone=None,
    bind: bool = False,
    **options,
):
    """A task of one tenant (and, with `model`, of one object of it); see the module doc."""
    filters = tenants or {}

    def decorate(func: Callable):
        def run(self, *args, **kwargs):
            if model is None:
                tenant_id, *rest = args
                tenant = active_tenant(tenant_id, **filters)
            else:
                object_id, *rest = args
                tenant = active_tenant(kwargs.pop("tenant_id"), **filters)
            if tenant is None:
                return gone
            with scope(tenant=tenant), tenant_formatting(tenant):
                first = tenant if model is None else _reload(model, tenant, object_id)
                if first is None:
                    return gone
                head = (self, first) if bind else (first,)
                with translation.override(work_language(first, tenant)):
                    return func(*head, *rest, **kwargs)

        run.__name__ = func.__name__
        run.__qualname__ = func.__qualname__
        run.__module__ = func.__module__
        run.__doc__ = func.__doc__
        run.__signature__ = _task_signature(func, model=model, bind=bind)
        return shared_task(base=ProjectTask, bind=True, **options)(run)

    return decorate


@project_task
def leases_sweep() -> dict[str, int]:
    """Beat: fail or requeue the work whose worker stopped (core/leases.py)."""
    from django_scopes import scopes_disabled

    from .leases import leases_sweep as sweep  # the task bears its name

    with scopes_disabled():
        return sweep()

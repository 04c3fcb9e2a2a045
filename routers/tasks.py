"""Celery entry points of the routers app: thin (ids in, reload, return if gone, call a
service), on the project's task base (core/tasks.py). The poller is on Celery beat every
minute (config/celery.py)."""

from celery.exceptions import MaxRetriesExceededError

from core.tasks import project_task, tenant_task

from .poller import poll_routers
from .routeros import RouterError
from .services import RouterBusy, pppoe_account_push, router_adoption_execute

POLL_SOFT_TIME_LIMIT = 55  # the cycle's own deadline (45 s) comes first


@project_task(
    expires=50,  # a cycle queued behind a slow one is dropped: the next minute's replaces it
    soft_time_limit=POLL_SOFT_TIME_LIMIT,
    time_limit=POLL_SOFT_TIME_LIMIT + 10,
    ignore_result=True,
)
def routers_poll(router_ids: list[int] | None = None) -> dict:
    """One poll cycle over every enabled router (or those given)."""
    report = poll_routers(router_ids)
    return {"polled": report.polled, "reachable": report.reachable, "skipped": report.skipped}


@tenant_task(
    model="routers.PppoeAccount",
    gone=False,
    bind=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=70,
)
def pppoe_account_sync(self, account) -> bool:
    """Apply one account's desired state on its router now. Retries while the router cannot be
    reached or is being polled; after the last retry the poller brings the router in line."""
    try:
        return pppoe_account_push(account=account)
    except (RouterError, RouterBusy) as exc:
        try:
            raise self.retry(exc=exc, countdown=min(300, 10 * 2**self.request.retries))
        except MaxRetriesExceededError:
            return False
        except (RouterError, RouterBusy):
            return False


@tenant_task(model="routers.RouterAdoption")
def router_adoption_run(job) -> str:
    """Adopt the secrets an operator confirmed (queued by `router_adoption_start`, or again by
    the sweep)."""
    return router_adoption_execute(job=job).status

"""Celery entry points of billing, on the project's task base (core/tasks.py). Billing's work
runs in the request or in the jobs of other apps; what is left here is a retired name."""

import logging

from core.tasks import project_task

logger = logging.getLogger(__name__)


# -- a retired name, kept for one release: a message queued before the upgrade is acknowledged
# without sending (its notice was carried into the e-mail outbox by billing's migration 0004,
# which sends it once; sending it here too would be twice) ------------------------------------
@project_task(name="billing.tasks.credit_limit_change_notify")
def retired_credit_limit_change_notify(change_id: int, tenant_id: int | None = None) -> bool:
    logger.info("Credit change %s: its notice is sent by the e-mail outbox", change_id)
    return False

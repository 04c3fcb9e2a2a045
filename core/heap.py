"""A worker's startup heap kept out of the garbage collector's full passes.

A bulk job's chunk makes tens of thousands of short-lived objects, and each full pass of the
collector then walks every object of the process, Django's and the apps' modules among
them: a bulk hold of 10,000 clients spent a third of its CPU there. Once the worker has
loaded the app, and before its pool forks, what it holds is frozen (`gc.freeze`): the pool's
processes inherit it (replacements too), leave it out of every pass, and so do not write to
the pages they share with the parent. The solo and threads pools run in the frozen process.
"""

import gc
import logging

from celery.signals import worker_init

logger = logging.getLogger(__name__)


def startup_heap_freeze() -> int:
    """Collect what is garbage already (or it would stay, frozen), then freeze the rest;
    returns how many objects are frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@worker_init.connect
def _worker_heap_freeze(**_kwargs) -> None:
    frozen = startup_heap_freeze()
    logger.info("Startup heap frozen: %s objects left out of the collector's passes", frozen)

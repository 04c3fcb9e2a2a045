"""A worker's startup heap kept out of the garbage collector's full passes.

A bulk job's chunk makes tens of thousands of short-lived objects, and each full pass of the
collector then walks every object of the process, Django's and the apps' modules among
them: a bulk hold of 10,000 clients spent a third of its CPU there. Once a worker's process
has loaded the app, what it holds is frozen (`gc.freeze`): left out of every pass, and its
pages stay shared with the parent process that forked it.
"""

import gc

from celery.signals import worker_process_init


def startup_heap_freeze() -> None:
    """Collect what is garbage already (or it would stay, frozen), then freeze the rest."""
    gc.collect()
    gc.freeze()


@worker_process_init.connect
def _worker_heap_freeze(**_kwargs) -> None:
    startup_heap_freeze()

"""A worker's process freezes its startup heap when it starts (core.heap), so that the
collector's full passes during a job leave the app's own objects out."""

import gc

from celery.signals import worker_process_init


def test_a_worker_process_freezes_its_heap_at_start():
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        worker_process_init.send(sender=None)
        assert gc.get_freeze_count() > 10_000  # Django's and the apps' modules
    finally:
        gc.unfreeze()

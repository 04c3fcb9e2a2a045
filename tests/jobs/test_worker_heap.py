"""A real worker freezes its startup heap once the app is loaded, before its pool forks
(core.heap), so that the collector's passes in a job leave the app's own objects out."""

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_freezes_its_startup_heap_before_its_pool_starts(workers):
    worker = workers()
    log = worker.log.read_text()
    frozen = re.search(r"Startup heap frozen: (\d+) objects", log)
    assert frozen, log
    assert int(frozen.group(1)) > 10_000  # Django's and the apps' modules
    assert log.index("Startup heap frozen") < log.index("ready.")

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from exports.models import ExportJob
from exports.tasks import export_jobs_purge_expired
from tests.exports.test_export_views import make_job

pytestmark = pytest.mark.django_db


def test_purge_deletes_old_jobs_and_their_files(tenant, owner):
    old = make_job(tenant, owner.user)
    recent = make_job(tenant, owner.user)
    running = make_job(tenant, owner.user, run=False)
    path = Path(old.file.path)
    assert path.exists()
    with scopes_disabled():
        ExportJob.objects.filter(pk__in=[old.pk, running.pk]).update(
            created_at=timezone.now() - timedelta(days=8)
        )
    assert export_jobs_purge_expired() == 1
    assert not path.exists()
    with scopes_disabled():
        assert set(ExportJob.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert export_jobs_purge_expired() == 0


@pytest.mark.django_db(transaction=True)
def test_two_purges_at_once_delete_each_job_once(tenant, owner):
    from tests.billing.test_ledger_concurrency import run_parallel

    old = [make_job(tenant, owner.user) for _ in range(3)]
    recent = make_job(tenant, owner.user)
    with scopes_disabled():
        ExportJob.objects.filter(pk__in=[j.pk for j in old]).update(
            created_at=timezone.now() - timedelta(days=8)
        )
    results = run_parallel([export_jobs_purge_expired] * 2, threads=2)
    assert all(isinstance(n, int) for n in results) and sum(results) == 3
    assert not any(Path(j.file.path).exists() for j in old)
    with scopes_disabled():
        assert list(ExportJob.objects.values_list("pk", flat=True)) == [recent.pk]
    assert export_jobs_purge_expired() == 0

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

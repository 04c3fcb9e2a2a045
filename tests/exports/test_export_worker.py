"""The export task through a real Celery worker consuming from Redis (the project's app and
broker), as in production: queued on commit, picked up by the worker, file written."""

import time
from datetime import datetime

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from billing.services import account_charge, account_top_up
from config.celery import app
from core.stored_text import literal_text
from exports.models import ExportJob, ExportStatus
from tests.factories import ClientFactory, MembershipFactory, TenantFactory, make_account
from tests.helpers import ledger_export_create

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(job, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with scopes_disabled():
            job.refresh_from_db()
        if job.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return job
        time.sleep(0.2)
    raise AssertionError(f"export job still {job.status} after {timeout}s")


def test_export_runs_on_a_real_worker(celery_eager):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    celery_eager.conf.task_always_eager = False
    tenant = TenantFactory()
    operator = MembershipFactory(tenant=tenant, role="accountant")
    customer = ClientFactory(tenant=tenant)
    account = make_account(customer)
    for day in range(1, 21):
        at = datetime(2026, 3, day, 10, tzinfo=tenant.zone)
        account_top_up(account=account, amount="10", at=at)
        account_charge(account=account, amount="3.5", purpose=literal_text(f"=day {day}"), at=at)
    app.control.purge()  # nothing left over from other runs on this Redis database
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        job = ledger_export_create(operator.user, customer)
        job = wait_for(job)
    assert job.status == ExportStatus.DONE, job.error
    assert (job.progress, job.total) == (40, 40)
    with scopes_disabled(), ExportJob.objects.get(pk=job.pk).file.open("rb") as handle:
        sheet = load_workbook(handle).active
    assert sheet.max_row == 41
    purposes = {sheet.cell(row=r, column=5).value for r in range(2, 42)}
    assert "'=day 7" in purposes

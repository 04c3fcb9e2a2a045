"""A job's failure reason is a stored message: `lease_fail` and `leases_fail_running` refuse a
plain string; a scheduled run that raised keeps the exception's class and first line for the
operator and its traceback in the log; the dashboard reads the run, its figures grouped and
"Nothing to do." included, in the reader's language; the admin shows the reason rendered; the
migration keeps an old run's text."""

import logging
from dataclasses import replace

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from core import jobs
from core.jobs import job_run
from core.leases import lease_create, lease_fail, leases_fail_running
from core.models import JobRun, JobStatus
from core.stored_text import literal_text, stored_gettext
from events.services import EVENTS_PRUNE_JOB
from subscriptions.services import EXPIRY_JOB
from tests.factories import UserFactory
from tests.helpers import force_login_verified, migrated_back_to

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
FAILED_EN = "The run failed: ConnectionError: the ledger is away"
FAILED_RU = "Запуск завершился ошибкой: ConnectionError: the ledger is away"


def running(tenant, job=EXPIRY_JOB):
    with scopes_disabled():
        return lease_create(JobRun.objects.all(), tenant=tenant, job=job)


def test_lease_fail_refuses_a_plain_string(tenant):
    run, lease = running(tenant)
    with pytest.raises(TypeError, match="StoredText"):
        lease_fail(lease, "The worker stopped.")
    with scopes_disabled():
        with pytest.raises(TypeError, match="StoredText"):
            leases_fail_running(JobRun.objects.filter(pk=run.pk), "The worker stopped.")
        assert JobRun.objects.get(pk=run.pk).status == JobStatus.RUNNING
    assert lease_fail(lease, literal_text("Stopped by hand."))


@pytest.fixture
def failed_run(tenant, monkeypatch, caplog):
    """The expiry job raised in a beat worker, with English active."""

    def boom(**_kwargs):
        raise ConnectionError("the ledger is away\nat line 2 of the driver")

    monkeypatch.setitem(jobs._JOBS, EXPIRY_JOB, replace(jobs.job_get(EXPIRY_JOB), run=boom))
    with translation.override("en"), caplog.at_level(logging.ERROR, logger="core.jobs"):
        run = job_run(tenant=tenant, job=EXPIRY_JOB)
    run.log = caplog.text
    return run


def test_a_failed_run_keeps_the_exception_line_and_logs_the_traceback(failed_run):
    assert failed_run.status == JobStatus.FAILED
    assert failed_run.error == stored_gettext(
        "The run failed: %(error)s", error="ConnectionError: the ledger is away"
    )
    assert "Traceback" not in str(failed_run.error) and "line 2" not in str(failed_run.error)
    assert "Traceback" in failed_run.log and "at line 2 of the driver" in failed_run.log
    with translation.override("ru"):
        assert failed_run.summary == FAILED_RU
    with translation.override("en"):
        assert failed_run.summary == FAILED_EN


def test_the_dashboard_reads_the_failure_in_the_readers_language(client, owner, failed_run):
    assert FAILED_RU in client.get(reverse("holds:dashboard"), **RU).content.decode()
    english = client.get(reverse("holds:dashboard"), **EN).content.decode()
    assert FAILED_EN in english and FAILED_RU not in english


def test_the_admin_shows_the_failure_rendered(client, failed_run):
    force_login_verified(client, UserFactory(is_superuser=True, is_staff=True))
    listed = client.get(reverse("admin:core_jobrun_changelist"), **RU).content.decode()
    assert FAILED_RU in listed and '"msgid"' not in listed
    change = reverse("admin:core_jobrun_change", args=[failed_run.pk])
    assert FAILED_RU in client.get(change, **RU).content.decode()
    assert FAILED_EN in client.get(change, **EN).content.decode()


def test_the_summary_groups_figures_and_says_nothing_to_do_in_the_readers_language(tenant):
    with scopes_disabled():
        busy = JobRun.objects.create(
            tenant=tenant, job=EVENTS_PRUNE_JOB, status=JobStatus.OK, result={"deleted": 1234}
        )
        idle = JobRun.objects.create(
            tenant=tenant, job=EVENTS_PRUNE_JOB, status=JobStatus.OK, result={"deleted": 0}
        )
    with translation.override("en"):
        assert busy.summary == "Events deleted 1,234"
        assert idle.summary == "Nothing to do."
    with translation.override("ru"):
        assert busy.summary.endswith(" 1\N{NO-BREAK SPACE}234") and "1,234" not in busy.summary
        assert busy.summary != "Events deleted 1\N{NO-BREAK SPACE}234"  # the label is Russian
        assert idle.summary == "Делать было нечего."


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_an_old_error_forward_and_a_message_back(tenant):
    run, lease = running(tenant)
    lease_fail(lease, stored_gettext("The run failed: %(error)s", error="KeyError: 'x'"))
    with migrated_back_to(("core", "0002_tenant_keyed_keys")), connection.cursor() as cursor:
        cursor.execute("SELECT error FROM core_jobrun WHERE id = %s", [run.pk])
        assert cursor.fetchone() == ("The run failed: %(error)s",)
        cursor.execute(
            "UPDATE core_jobrun SET error = %s WHERE id = %s",
            ['Traceback (most recent call last):\n  File "x.py"\nKeyError: 100%', run.pk],
        )
    with scopes_disabled():
        run = JobRun.objects.get(pk=run.pk)
    assert run.error == literal_text(
        'Traceback (most recent call last):\n  File "x.py"\nKeyError: 100%'
    )
    with translation.override("ru"):
        assert run.summary == "Traceback (most recent call last):"

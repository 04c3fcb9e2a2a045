"""The Celery side: beat's entries, thin tasks per tenant, the access fan-out of a job run."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from billing.models import Account
from clients.signals import client_access_changed
from clients.tasks import client_access_fanout
from config.celery import app
from core.models import JobRun
from events.tasks import outbox_emails_send
from holds import tasks
from subscriptions import tasks as subscription_tasks
from subscriptions.models import tenant_today

pytestmark = pytest.mark.django_db


def test_beat_schedule_declares_both_jobs():
    schedule = app.conf.beat_schedule
    assert schedule["holds-financial"]["task"] == "holds.tasks.financial_holds_run_all"
    assert schedule["subscriptions-expiry"]["task"] == "subscriptions.tasks.expiry_run_all"
    assert schedule["holds-financial"]["schedule"] < schedule["subscriptions-expiry"]["schedule"]


def test_run_all_runs_each_active_tenant(tenant, other_tenant):
    other_tenant.is_active = False
    other_tenant.save()
    assert subscription_tasks.expiry_run_all.delay().get() == 1
    assert tasks.financial_holds_run_all.delay().get() == 1
    with scopes_disabled():
        assert set(JobRun.objects.values_list("tenant_id", "job")) == {
            (tenant.pk, "expiry"),
            (tenant.pk, "financial_holds"),
        }


def test_task_for_a_missing_tenant_returns_quietly():
    assert subscription_tasks.expiry_run.delay(999999).get() is None
    assert outbox_emails_send.delay(999999, [1]).get() == 0
    assert client_access_fanout.delay(999999, [1], False, "x").get() == 0


def test_job_sends_access_changes_after_commit(
    tenant, funded, subscribe, django_capture_on_commit_callbacks
):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    debtor = funded(tenant)
    subscribe(debtor, tenant_today(tenant) + timedelta(days=5))
    with scopes_disabled():
        Account.objects.filter(client=debtor).update(balance=Decimal("-1"))
    received = []

    def receiver(sender, **kwargs):
        received.append((kwargs["client"].pk, kwargs["access"], kwargs["reason"]))

    client_access_changed.connect(receiver, dispatch_uid="test_tasks_receiver")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.financial_holds_run.delay(tenant.pk)
            tasks.financial_holds_run.delay(tenant.pk)  # a second run sends nothing more
    finally:
        client_access_changed.disconnect(dispatch_uid="test_tasks_receiver")
    assert received == [(debtor.pk, False, "hold_set")]

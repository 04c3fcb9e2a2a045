"""Retention: the nightly job deletes a tenant's events older than its setting, in batches;
twice gives the state of once, and another tenant's events are not touched."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from core.jobs import job_run
from core.stored_text import literal_text
from events import services
from events.models import Event
from events.services import EVENTS_PRUNE_JOB, EventLine, events_prune, events_record_bulk
from tests.factories import ClientFactory


def seed(tenant, ages_in_days):
    customer = ClientFactory(tenant=tenant)
    now = timezone.now()
    with transaction.atomic():
        events_record_bulk(
            tenant=tenant,
            lines=[
                EventLine(
                    type="hold.placed",
                    client_id=customer.pk,
                    description=literal_text(f"{age} days old"),
                    at=now - timedelta(days=age),
                )
                for age in ages_in_days
            ],
        )


def kept(tenant) -> list[str]:
    with scopes_disabled():
        return sorted(
            str(description)
            for description in Event.objects.filter(tenant=tenant, type="hold.placed").values_list(
                "description", flat=True
            )
        )


def test_prunes_old_events_in_batches_and_twice_is_once(tenant, other_tenant, monkeypatch):
    tenant.event_retention_days = 30
    tenant.save()
    seed(tenant, [1, 29, 31, 40, 400])
    seed(other_tenant, [400])
    monkeypatch.setattr(services, "PRUNE_BATCH", 2)  # three batches: 2, 1, 0
    assert events_prune(tenant=tenant) == {"deleted": 3}
    assert kept(tenant) == ["1 days old", "29 days old"]
    assert events_prune(tenant=tenant) == {"deleted": 0}
    assert kept(tenant) == ["1 days old", "29 days old"]
    assert kept(other_tenant) == ["400 days old"]


def test_zero_days_keeps_everything(tenant):
    tenant.event_retention_days = 0
    tenant.save()
    seed(tenant, [5000])
    assert events_prune(tenant=tenant) == {"deleted": 0} and kept(tenant) == ["5000 days old"]


def test_runs_as_a_registered_job(tenant):
    tenant.event_retention_days = 10
    tenant.save()
    seed(tenant, [11])
    run = job_run(tenant=tenant, job=EVENTS_PRUNE_JOB)
    assert run.status == "ok" and run.result == {"deleted": 1}
    assert kept(tenant) == []

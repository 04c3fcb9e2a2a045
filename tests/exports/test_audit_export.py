"""The audit log's .xlsx export: exactly the rows of the page (filters, order, the money
events only for an accountant), for owners and accountants only."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from events.services import EventLine, events_record_bulk
from exports.models import ExportJob
from exports.services import export_job_execute
from tests.factories import ClientFactory
from tests.helpers import assert_role_refused

pytestmark = pytest.mark.django_db
PAGE = reverse("events:event_list")
EXPORT = reverse("exports:audit_export")


def seed(tenant, actor=None):
    customer = ClientFactory(tenant=tenant)
    now = timezone.now()
    lines = [
        EventLine(
            type=kind,
            client_id=customer.pk,
            description=f"{kind} {i}",
            actor=actor,
            at=now - timedelta(minutes=i),
        )
        for i, kind in enumerate(
            ["hold.placed", "ledger.entry_posted", "client.updated", "ledger.entry_posted"] * 3
        )
    ]
    with transaction.atomic():
        events_record_bulk(tenant=tenant, lines=lines)


def page_descriptions(client, params) -> list[str]:
    response = client.get(PAGE, {**params, "per_page": 100})
    assert response.status_code == 200
    return [row.record.description for row in response.context["table"].page.object_list]


def file_rows(tenant) -> list[tuple]:
    with scopes_disabled():
        job = ExportJob.objects.filter(tenant=tenant, kind="events.audit").latest("pk")
        job = export_job_execute(job=job)  # the worker's part (queued at the commit)
    assert job.status == "done", job.error
    with job.file.open("rb") as handle:
        sheet = load_workbook(handle, read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("When", "Event", "What happened", "Who", "Object", "Object ID", "Client")
    return rows[1:]


@pytest.mark.parametrize(
    "params",
    [{}, {"type": "ledger.entry_posted"}, {"sort": "created_at"}, {"type": "hold.placed"}],
)
def test_the_file_holds_exactly_the_pages_rows(client, owner, tenant, params):
    seed(tenant, actor=owner.user)
    shown = page_descriptions(client, params)
    response = client.post(EXPORT, {**params, "after": "ignored", "token": "t1"})
    assert response.status_code == 302
    rows = file_rows(tenant)
    assert [row[2] for row in rows] == shown
    who = owner.user.get_full_name() or owner.user.username
    assert {row[3] for row in rows} == {who}


def test_an_accountant_exports_the_money_events_only(client, login_as, tenant):
    seed(tenant)
    login_as(tenant, "accountant")
    shown = page_descriptions(client, {"type": "hold.placed"})  # not offered: ignored
    client.post(EXPORT, {"type": "hold.placed"})
    rows = file_rows(tenant)
    assert [row[2] for row in rows] == shown
    assert {row[1] for row in rows} == {"Ledger entry posted"}


def test_with_htmx_the_pages_current_url_decides(client, owner, tenant):
    """Filtered by HTMX since the page was loaded: the hidden fields are the old ones."""
    seed(tenant)
    current = f"http://testserver{PAGE}?type=client.updated"
    response = client.post(
        EXPORT, {"type": ""}, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=current
    )
    assert response.status_code == 200
    rows = file_rows(tenant)
    assert [row[2] for row in rows] == page_descriptions(client, {"type": "client.updated"})
    assert len(rows) == 3


def test_a_double_click_queues_one_export(client, owner, tenant):
    seed(tenant)
    client.post(EXPORT, {"token": "same"})
    client.post(EXPORT, {"token": "same"})
    with scopes_disabled():
        assert ExportJob.objects.filter(tenant=tenant, kind="events.audit").count() == 1


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_other_roles_are_refused(client, login_as, tenant, role):
    login_as(tenant, role)
    assert_role_refused(client, EXPORT, method="post")
    with scopes_disabled():
        assert not ExportJob.objects.exists()


def test_bad_filters_are_ignored_like_on_the_page(client, owner, tenant):
    seed(tenant)
    params = {"since": "31.31.2026", "object_id": "1e400", "type": "x" * 5000}
    shown = page_descriptions(client, params)
    client.post(EXPORT, params)
    assert [row[2] for row in file_rows(tenant)] == shown

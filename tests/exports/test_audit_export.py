"""The audit log's .xlsx export, which is every list's (the toolbar's Export .xlsx,
exports.lists): exactly the rows of the page (filters, order, every keyset page of it, the money
events only for an accountant, because the page's queryset says so), for owners and accountants
only."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from core.stored_text import literal_text
from events.services import EventLine, events_record_bulk
from exports.lists import LIST_EXPORT_KIND
from exports.models import ExportJob
from exports.services import export_job_execute
from tenancy.models import Membership
from tests.factories import ClientFactory
from tests.helpers import assert_role_refused

pytestmark = pytest.mark.django_db
PAGE = reverse("events:event_list")
EXPORT = reverse("exports:list_export")
HEADERS = ("When", "Event", "What happened", "Who", "Object")  # the page's default columns


def seed(tenant, actor=None):
    customer = ClientFactory(tenant=tenant)
    now = timezone.now()
    lines = [
        EventLine(
            type=kind,
            client_id=customer.pk,
            description=literal_text(f"{kind} {i}"),
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
    return [str(row.record.description) for row in response.context["table"].page.object_list]


def export(client, params, token="", **headers):
    """The toolbar's form, sent with the page's query as the address bar shows it."""
    data = {"list_path": PAGE, "list_query": urlencode(params), "token": token}
    return client.post(EXPORT, data, **headers)


def run_latest(tenant) -> ExportJob:
    with scopes_disabled():
        job = ExportJob.objects.filter(tenant=tenant, kind=LIST_EXPORT_KIND).latest("pk")
        return export_job_execute(job=job)  # the worker's part (queued at the commit)


def file_rows(tenant) -> list[tuple]:
    job = run_latest(tenant)
    assert job.status == "done", job.error
    with job.file.open("rb") as handle:
        sheet = load_workbook(handle, read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == HEADERS
    return rows[1:]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"type": "ledger.entry_posted"},
        {"sort": "created_at"},
        {"type": "hold.placed"},
        {"type": "ledger.entry_posted", "sort": "created_at"},
    ],
)
def test_the_file_holds_exactly_the_pages_rows(client, owner, tenant, params):
    seed(tenant, actor=owner.user)
    shown = page_descriptions(client, params)
    response = export(client, {**params, "after": "ignored"}, token="t1")
    assert response.status_code == 302
    rows = file_rows(tenant)
    assert [row[2] for row in rows] == shown
    who = owner.user.get_full_name() or owner.user.username
    assert {row[3] for row in rows} == {who}


@pytest.mark.parametrize("cursor", ["after", "before"])
def test_a_keyset_page_exports_the_whole_list(client, owner, tenant, cursor):
    """Sent from an older (or newer) page: the file starts at the list's first row."""
    seed(tenant)
    second = client.get(PAGE, {"per_page": 5}).context["table"].page
    third = client.get(PAGE, {"per_page": 5, "after": second.next_cursor}).context["table"].page
    place = second.next_cursor if cursor == "after" else third.previous_cursor
    export(client, {"per_page": 5, cursor: place})
    job = run_latest(tenant)
    assert job.status == "done" and job.total == 12, job.error
    rows = file_rows(tenant)
    assert [row[2] for row in rows] == page_descriptions(client, {})
    assert len(rows) == 12


def test_an_accountant_exports_the_money_events_only(client, login_as, tenant):
    seed(tenant)
    login_as(tenant, "accountant")
    shown = page_descriptions(client, {"type": "hold.placed"})  # not offered: ignored
    export(client, {"type": "hold.placed"})
    rows = file_rows(tenant)
    assert [row[2] for row in rows] == shown
    assert {row[1] for row in rows} == {"Ledger entry posted"}


def test_the_worker_reads_the_pages_queryset_for_the_role_held_then(client, owner, tenant):
    """An owner made accountant before the job runs gets the accountant's page: the money
    events; made viewer, no audit log at all: the job fails with its reason."""
    seed(tenant)
    export(client, {})
    with scopes_disabled():
        Membership.objects.filter(pk=owner.pk).update(role="accountant")
    assert {row[1] for row in file_rows(tenant)} == {"Ledger entry posted"}
    export(client, {}, token="again")
    with scopes_disabled():
        Membership.objects.filter(pk=owner.pk).update(role="viewer")
    job = run_latest(tenant)
    assert job.status == "failed" and "no longer available" in str(job.error)


def test_with_htmx_the_address_bars_query_decides(client, owner, tenant):
    """Filtered by HTMX since the page was loaded: the toolbar's script sends the address
    bar's query (static/js/clientdesk.js), and the answer is the job's progress in place."""
    seed(tenant)
    response = export(client, {"type": "client.updated"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="export-job"' in response.content.decode()
    rows = file_rows(tenant)
    assert [row[2] for row in rows] == page_descriptions(client, {"type": "client.updated"})
    assert len(rows) == 3


def test_a_double_click_queues_one_export(client, owner, tenant):
    seed(tenant)
    export(client, {}, token="same")
    export(client, {}, token="same")
    with scopes_disabled():
        assert ExportJob.objects.filter(tenant=tenant, kind=LIST_EXPORT_KIND).count() == 1


@pytest.mark.parametrize("role", ["manager", "viewer"])
def test_other_roles_are_refused(client, login_as, tenant, role):
    login_as(tenant, role)
    assert client.get(PAGE).status_code == 403
    assert_role_refused(client, EXPORT, "post", {"list_path": PAGE, "list_query": ""})
    with scopes_disabled():
        assert not ExportJob.objects.exists()


def test_bad_filters_are_ignored_like_on_the_page(client, owner, tenant):
    seed(tenant)
    params = {"since": "31.31.2026", "object_id": "1e400", "type": "x" * 5000}
    shown = page_descriptions(client, params)
    export(client, params)
    assert [row[2] for row in file_rows(tenant)] == shown

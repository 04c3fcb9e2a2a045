"""The Statistics export: the pop-up's POST queues a job (roles, bad input next to the field,
a double click queues one job), the worker writes one sheet per chosen grouping with the
chosen columns and a totals row, and the file opened back holds the report's figures."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from exports.models import ExportJob, ExportStatus
from messaging.services import messages_ingest, rollups_refresh
from tests.factories import ClientFactory, SenderIdFactory, message_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def traffic(tenant):
    customer = ClientFactory(tenant=tenant, sms_price=Decimal("0.05"))
    SenderIdFactory(client=customer, name="Bank", status="pending")
    records = [
        message_record(customer, key="1", sender="=Shop", sent_at="2026-03-10T10:00:00Z"),
        message_record(customer, key="2", status="sent", sent_at="2026-03-10T10:00:00Z"),
        message_record(
            customer,
            key="3",
            sender="Bank",
            text="x" * 200,
            recipient="+4915112345678",
            sent_at="2026-03-11T10:00:00Z",
        ),
        message_record(customer, key="4", status="failed", sent_at="2026-03-11T10:00:00Z"),
        message_record(customer, key="5", channel="viber", sent_at="2026-03-12T10:00:00Z"),
    ]
    with scopes_disabled():
        messages_ingest(tenant=tenant, records=records)
        rollups_refresh(tenant=tenant)
    return customer


def export_url(customer):
    return reverse("messaging:client_statistics_export", kwargs={"number": customer.number})


FORM = {
    "start": "2026-03-01",
    "end": "2026-03-31",
    "channel": "",
    "reports": ["day", "operator", "sender"],
    "columns": ["sent", "delivered", "pending", "efficiency", "price"],
    "token": "0b6a3c1e-6f2a-4d51-9a77-1f5c3f3b2a10",
}


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST, then run the on-commit callbacks (the export task, eagerly) as a commit would."""

    def do_post(url, data, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, **extra)

    return do_post


def jobs():
    with scopes_disabled():
        return list(ExportJob.objects.order_by("id"))


def test_export_writes_one_sheet_per_grouping(post, client, owner, traffic):
    response = post(export_url(traffic), FORM)
    assert response.status_code == 302 and response["Location"] == reverse("exports:export_list")
    (job,) = jobs()
    assert job.status == ExportStatus.DONE, job.error
    assert job.kind == "messaging.statistics"
    with job.file.open("rb") as handle:
        book = load_workbook(handle)
    assert book.sheetnames == ["By day", "By operator", "By sender ID"]
    day = [list(r) for r in book["By day"].iter_rows(values_only=True)]
    assert day[0] == [
        "Date",
        "Send SMS (parts)",
        "SMS (Parts) Delivered",
        "Awaiting report (parts)",
        "Efficiency",
        "SMS Price (EUR)",
    ]
    assert [r[0].date().isoformat() for r in day[1:-1]] == [
        "2026-03-10",
        "2026-03-11",
        "2026-03-12",
    ]
    assert day[1][1:] == [2, 1, 1, 1.0, 0.1]  # efficiency 1 of 1 reported = 100 %
    assert day[2][1:] == [3, 2, 0, round(2 / 3, 4), 0.15]
    assert day[-1] == ["Total", 6, 4, 1, 0.8, 0.3]
    operator = [list(r) for r in book["By operator"].iter_rows(values_only=True)]
    assert operator[0][:2] == ["Country", "Operator"]
    assert [r[:2] for r in operator[1:-1]] == [["Germany", "T-Mobile"], ["Latvia", "LMT"]]
    sender = [list(r) for r in book["By sender ID"].iter_rows(values_only=True)]
    # A sender named "=Shop" is text, never a formula; Bank is flagged.
    assert [r[:2] for r in sender[1:-1]] == [
        ["'=Shop", "Not registered"],
        ["Bank", "Not approved (pending)"],
        ["Shop", "Not registered"],
    ]
    assert book["By day"]["F2"].number_format.endswith('"EUR"')


def test_the_chosen_columns_only(post, client, owner, traffic):
    post(export_url(traffic), {**FORM, "reports": ["country"], "columns": ["messages"]})
    (job,) = jobs()
    with job.file.open("rb") as handle:
        rows = list(load_workbook(handle)["By country"].iter_rows(values_only=True))
    assert rows == [("Country", "Messages"), ("Germany", 1), ("Latvia", 4), ("Total", 5)]


def test_htmx_post_shows_the_progress_in_the_pop_up(post, client, owner, traffic):
    response = post(export_url(traffic), FORM, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="export-job"' in body and 'hx-trigger="every 1s"' in body  # polls
    assert jobs()[0].status == ExportStatus.DONE


def test_a_double_click_queues_one_job(post, client, owner, traffic):
    post(export_url(traffic), FORM)
    post(export_url(traffic), FORM)
    assert len(jobs()) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reports": []}, "reports"),
        ({"columns": []}, "columns"),
        ({"reports": ["nope"]}, "reports"),
        ({"columns": ["secret"]}, "columns"),
        ({"start": "yesterday"}, "start"),
        ({"end": ""}, "end"),
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end"),
        ({"start": "2020-01-01"}, "start"),
        ({"channel": "fax"}, "channel"),
    ],
)
def test_bad_input_shows_the_error_and_queues_nothing(post, client, owner, traffic, change, field):
    data = {**FORM, **change}
    response = post(export_url(traffic), data)
    assert response.status_code == 400
    assert field in response.context["export_form"].errors
    body = response.content.decode()
    if field != "channel":
        assert f'data-field-error="{field}"' in body
    assert "show d-block" in body  # the pop-up stays open with the error
    htmx = post(export_url(traffic), data, HTTP_HX_REQUEST="true")
    assert (
        htmx.status_code == 200
        and f'data-field-error="{field}"' in htmx.content.decode()
        or (field == "channel")
    )
    assert jobs() == []


@pytest.mark.parametrize(
    ("role", "allowed"), [("manager", True), ("accountant", True), ("viewer", False)]
)
def test_roles(post, client, login_as, tenant, traffic, role, allowed):
    login_as(tenant, role)
    response = post(export_url(traffic), FORM)
    assert response.status_code == (302 if allowed else 403)
    assert len(jobs()) == (1 if allowed else 0)


def test_export_of_a_client_deleted_meanwhile_fails_quietly(post, client, owner, traffic, tenant):
    from exports.services import export_job_execute

    job = ExportJob(
        tenant=tenant, kind="messaging.statistics", parameters={**FORM, "client_number": 999}
    )
    with scopes_disabled():
        job.save()
        job = export_job_execute(job=job)
    assert job.status == ExportStatus.FAILED and "no longer exists" in str(job.error)

"""Export jobs over the API: started where the portal starts them (the Finance tab's ledger,
the Statistics tab's export), followed by status, downloaded as .xlsx; a token sees its own
jobs, an owner's token every one."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django_scopes import scopes_disabled

from exports.models import ExportJob
from tests.api.test_api_http import assert_problem
from tests.factories import make_account

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def workbook(response):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == XLSX
    assert "attachment" in response.headers["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)


def test_a_ledger_export_is_started_followed_and_downloaded(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant)
    make_account(customer, balance="12.50")
    api = api_as(api_tenant, "accountant")

    started = api.post(f"clients/{customer.number}/ledger/export/", json={})
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["kind"] == "billing.ledger" and f"#{customer.number}" in job["title"]

    status = api.get(f"exports/{job['id']}/")  # the worker ran it once the start committed
    assert status.status_code == 200, status.text
    done = status.json()
    assert (done["status"], done["percent"], done["progress"]) == ("done", 100, 1)
    assert done["download"] == f"/api/v1/exports/{job['id']}/download/"

    sheet = workbook(api.get(f"exports/{job['id']}/download/")).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Entry" and Decimal(str(rows[1][3])) == Decimal("12.50")

    listed = api.get("exports/", params={"status": "done"}).json()["items"]
    assert [item["id"] for item in listed] == [job["id"]]
    assert_problem(api.get("exports/", params={"status": "lost"}), 422, "status")


def test_a_statistics_export_has_a_sheet_per_grouping(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant)
    api = api_as(api_tenant, "manager")
    started = api.post(
        f"clients/{customer.number}/statistics/export/",
        json={
            "start": "2026-03-01",
            "end": "2026-03-31",
            "reports": ["day", "country"],
            "columns": ["sent", "price"],
        },
    )
    assert started.status_code == 202, started.text
    job = api.get(f"exports/{started.json()['id']}/").json()
    assert job["status"] == "done", job
    book = workbook(api.get(job["download"].removeprefix("/api/v1/")))
    assert book.sheetnames == ["By day", "By country"]
    header = next(book["By country"].iter_rows(values_only=True))
    assert header == ("Country", "Send SMS (parts)", f"SMS Price ({api_tenant.currency})")


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end"),
        ({"start": "2020-01-01", "end": "2026-03-01"}, "start"),
        ({"start": "soon", "end": "2026-03-01"}, "start"),
        ({"start": "2026-03-01", "end": "2026-03-31", "reports": ["weekday"]}, "reports"),
        ({"start": "2026-03-01", "end": "2026-03-31", "reports": []}, "reports"),
        ({"start": "2026-03-01", "end": "2026-03-31", "columns": ["cost"]}, "columns"),
        ({"start": "2026-03-01", "end": "2026-03-31", "channel": "fax"}, "channel"),
        ({"end": "2026-03-31"}, "start"),
    ],
)
def test_a_refused_statistics_export_names_the_field_and_starts_nothing(
    api_tenant, api_as, api_client_of, payload, field
):
    customer = api_client_of(api_tenant)
    api = api_as(api_tenant, "owner")
    url = f"clients/{customer.number}/statistics/export/"
    assert_problem(api.post(url, json=payload), 422, field)
    with scopes_disabled():
        assert not ExportJob.objects.filter(tenant=api_tenant).exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end"),
        ({"start": "1066-10-14"}, "start"),
        ({"sort": "amount"}, "sort"),
        ({"start": 20260301}, "start"),
    ],
)
def test_a_refused_ledger_export_names_the_field(api_tenant, api_as, api_client_of, payload, field):
    customer = api_client_of(api_tenant)
    api = api_as(api_tenant, "owner")
    assert_problem(api.post(f"clients/{customer.number}/ledger/export/", json=payload), 422, field)
    with scopes_disabled():
        assert not ExportJob.objects.filter(tenant=api_tenant).exists()


def test_tokens_see_their_own_jobs_and_owners_every_job(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant)
    manager, accountant, owner = (api_as(api_tenant, s) for s in ("manager", "accountant", "owner"))
    url = f"clients/{customer.number}/ledger/export/"
    job = manager.post(url, json={}).json()["id"]
    assert manager.get(f"exports/{job}/").status_code == 200
    assert_problem(accountant.get(f"exports/{job}/"), 404)
    assert_problem(accountant.get(f"exports/{job}/download/"), 404)
    assert accountant.get("exports/").json()["items"] == []
    assert owner.get(f"exports/{job}/").status_code == 200
    assert [item["id"] for item in owner.get("exports/").json()["items"]] == [job]

    viewer = api_as(api_tenant, "viewer")
    assert_problem(viewer.post(url, json={}), 403)
    assert_problem(viewer.get(f"exports/{job}/"), 403)


def test_a_job_without_its_file_has_nothing_to_download(api_tenant, api_as):
    with scopes_disabled():
        queued = ExportJob.objects.create(tenant=api_tenant, kind="billing.ledger", title="Q")
    api = api_as(api_tenant, "owner")
    status = api.get(f"exports/{queued.pk}/").json()
    assert (status["status"], status["download"]) == ("queued", None)
    assert_problem(api.get(f"exports/{queued.pk}/download/"), 404)
    assert_problem(api.get("exports/0/"), 422, "job_id")

"""The Finance tab's export, run by calling the task function (eager); the file is opened back
and checked cell by cell."""

from datetime import datetime
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from billing.models import EntryKind
from billing.services import account_charge, account_top_up
from core.stored_text import literal_text
from exports.models import ExportJob, ExportStatus
from exports.services import export_job_create, export_job_execute
from exports.tasks import export_job_run
from exports.xlsx import money_format
from tests.factories import ClientFactory, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(tenant, owner):
    zone = tenant.zone
    customer = ClientFactory(tenant=tenant, name="Export Customer")
    account = make_account(customer)
    account_top_up(
        account=account,
        amount="100.00",
        comment="@cmd",
        actor=owner.user,
        at=datetime(2026, 1, 5, 9, 15, tzinfo=zone),
    )
    account_charge(
        account=account,
        amount="12.34",
        purpose=literal_text('=HYPERLINK("http://x")'),
        comment="-2+3",
        kind=EntryKind.MESSAGING_CHARGE,
        at=datetime(2026, 1, 6, 23, 59, tzinfo=zone),
    )
    account_charge(
        account=account,
        amount="1",
        purpose=literal_text("+outside"),
        at=datetime(2026, 2, 1, 0, 0, tzinfo=zone),
    )
    return customer


def create_job(tenant, owner, customer, **params):
    parameters = {"client_number": customer.number, "start": "2026-01-01", "end": "2026-01-31"}
    parameters.update(params)
    return export_job_create(
        tenant=tenant, actor=owner.user, kind="billing.ledger", parameters=parameters
    )


def open_file(job):
    with job.file.open("rb") as handle:
        return load_workbook(handle)


def test_export_file_cell_by_cell(tenant, owner, ledger, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = create_job(tenant, owner, ledger, sort="created_at")
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    assert (job.progress, job.total) == (2, 2)
    assert job.finished_at is not None
    assert job.file.name.endswith(f"transactions-{ledger.number}-20260101-20260131.xlsx")
    sheet = open_file(job).active
    assert sheet.title == f"Client {ledger.number}"
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == [
        "Entry",
        "Date",
        "Credit (EUR)",
        "Debit (EUR)",
        "Purpose",
        "Comment",
        "Kind",
        "Balance (EUR)",
    ]
    assert sheet.max_row == 3  # header + the two January entries
    entry, when, credit, debit, purpose, comment, kind, balance = sheet[2]
    assert entry.data_type == "n" and isinstance(entry.value, int)
    assert when.is_date and when.value == datetime(2026, 1, 5, 9, 15)  # tenant's wall clock
    assert when.number_format == "yyyy-mm-dd hh:mm:ss"
    assert credit.value is None
    assert debit.value == 100 and debit.data_type == "n"
    assert debit.number_format == money_format("EUR")
    assert purpose.value == "Account top-up"
    assert comment.value == "'@cmd" and comment.data_type == "s"
    assert kind.value == "Top-up"
    assert balance.value == 100 and balance.number_format == money_format("EUR")
    _, when, credit, debit, purpose, comment, kind, balance = sheet[3]
    assert when.value == datetime(2026, 1, 6, 23, 59)
    assert credit.value == pytest.approx(12.34) and credit.number_format == money_format("EUR")
    assert debit.value is None
    assert purpose.value == '\'=HYPERLINK("http://x")' and purpose.data_type == "s"
    assert comment.value == "'-2+3"
    assert kind.value == "Messaging charge"
    assert balance.value == pytest.approx(87.66)
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"{cell.coordinate} is a formula"


def test_export_uses_the_tabs_default_order(
    tenant, owner, ledger, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = create_job(tenant, owner, ledger)
    with scopes_disabled():
        job.refresh_from_db()
    sheet = open_file(job).active
    assert [sheet.cell(row=r, column=8).value for r in (2, 3)] == [pytest.approx(87.66), 100]


def test_progress_is_reported_while_writing(tenant, owner, ledger, monkeypatch):
    seen = []
    job = create_job(tenant, owner, ledger)
    from exports import services

    real_writer = services.XlsxStreamWriter

    class Spy(real_writer):
        def write_row(self, values):
            super().write_row(values)
            with scopes_disabled():
                seen.append(ExportJob.objects.get(pk=job.pk).progress)

    monkeypatch.setattr(services, "XlsxStreamWriter", Spy)
    with scopes_disabled():
        job = export_job_execute(job=ExportJob.objects.get(pk=job.pk), progress_every=1)
    assert job.status == ExportStatus.DONE
    assert seen == [0, 1]  # the update for a row lands right after that row is written


def test_task_returns_quietly_when_gone(tenant):
    assert export_job_run(10**9, tenant_id=tenant.pk) is None
    assert export_job_run(1, tenant_id=10**9) is None


def test_job_runs_once(tenant, owner, ledger):
    job = create_job(tenant, owner, ledger)
    assert export_job_run(job.pk, tenant_id=tenant.pk) == ExportStatus.DONE
    with scopes_disabled():
        first = ExportJob.objects.get(pk=job.pk)
    assert export_job_run(job.pk, tenant_id=tenant.pk) == ExportStatus.DONE
    with scopes_disabled():
        assert ExportJob.objects.get(pk=job.pk).file.name == first.file.name


def test_missing_client_fails_with_a_message(tenant, owner, ledger):
    job = create_job(tenant, owner, ledger, client_number=999999)
    export_job_run(job.pk, tenant_id=tenant.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert str(job.error) == "The client of this export no longer exists."


def test_unexpected_error_fails_the_job(tenant, owner, ledger, monkeypatch):
    job = create_job(tenant, owner, ledger, start="not-a-date")
    export_job_run(job.pk, tenant_id=tenant.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert "The export failed" in str(job.error)


def test_export_of_client_without_entries(tenant, owner):
    customer = ClientFactory(tenant=tenant)
    job = create_job(tenant, owner, customer)
    export_job_run(job.pk, tenant_id=tenant.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.total == 0
    assert open_file(job).active.max_row == 1


def test_export_never_includes_other_tenants_rows(tenant, other_tenant, owner, ledger):
    foreign = ClientFactory(tenant=other_tenant)
    foreign_account = make_account(foreign)
    account_top_up(
        account=foreign_account, amount=Decimal("5"), at=datetime(2026, 1, 10, tzinfo=tenant.zone)
    )
    job = create_job(tenant, owner, ledger)
    export_job_run(job.pk, tenant_id=tenant.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert job.total == 2

"""The client import's service: bad files, matching, idempotency, opening balances, a killed
worker, tenants kept apart, and the command's last line."""

import csv
import io
import os
import tempfile
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from openpyxl import Workbook

from billing.models import Account, EntryKind, LedgerEntry
from billing.services import Posting, ledger_post_chunk, opening_balance_key
from clients import importing
from clients.import_files import (
    ImportFileError,
    identify,
    iter_rows,
    kept_rows,
    kept_rows_path,
)
from clients.importing import (
    client_import_commit,
    client_import_execute,
    client_import_preview,
    client_import_upload,
)
from clients.models import Client, ClientImport, ImportStatus
from core.stored_text import literal_text
from events.models import Event
from tests.factories import ClientFactory, ClientGroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def write_xlsx(path, rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return str(path)


def upload(tenant, path, name=None):
    with scope(tenant=tenant):
        return client_import_upload(
            tenant=tenant, actor=None, path=path, file_name=name or str(path)
        )


def commit(job):
    with scope(tenant=job.tenant):
        return client_import_execute(job=client_import_commit(job=job, actor=None, queue=False))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


HEADER = ["External ID", "Client name", "E-mail", "ITN", "Opening balance"]


def big_rows(n, bad_every=50):
    rows = [HEADER]
    for i in range(n):
        email = "not-an-email" if i % bad_every == 7 else f"c{i}@example.com"
        rows.append([f"R{i}", f"Client {i}", email, "", "10.50" if i % 10 == 0 else ""])
    return rows


# -- bad files -------------------------------------------------------------------------------
def _zip_with(path, names):
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return str(path)


@pytest.mark.parametrize(
    "build, code",
    [
        (lambda p: write_csv(p / "e.csv", []), "empty"),
        (lambda p: write_csv(p / "h.csv", [HEADER]), "empty"),
        (lambda p: str(_bytes(p / "b.csv", b"\x00\x01\x02binary" * 10)), "type"),
        (lambda p: str(_bytes(p / "x.xls", b"\xd0\xcf\x11\xe0" + b"0" * 100)), "xls"),
        (lambda p: _zip_with(p / "a.xlsx", ["word/document.xml"]), "type"),
        (lambda p: _zip_with(p / "m.xlsx", ["xl/workbook.xml", "xl/vbaProject.bin"]), "macro"),
        (lambda p: write_xlsx(p / "m.xlsm", [HEADER]), "macro"),
        (lambda p: write_xlsx(p / "f.xlsx", [HEADER, ["R1", "=1+2", "", "", ""]]), "formula"),
        (
            lambda p: write_csv(p / "f.csv", [HEADER, ["R1", "=HYPERLINK(1)", "", "", ""]]),
            "formula",
        ),
        (
            lambda p: write_csv(p / "w.csv", [HEADER, ["R1", "Ёжик", "", "", ""]], "cp1251"),
            "encoding",
        ),
        (
            lambda p: write_csv(p / "d.csv", [["Name", "name ", "E-mail"], ["a", "b", "c"]]),
            "duplicate_header",
        ),
        (lambda p: str(_bytes(p / "big.csv", b"a," * (11 * 1024 * 1024))), "too_large"),
    ],
)
def test_a_bad_file_is_refused_with_its_reason_and_writes_nothing(tenant, tmp_path, build, code):
    path = build(tmp_path)
    with pytest.raises(ImportFileError) as refused:
        upload(tenant, path)
    assert refused.value.code == code and refused.value.messages[0]
    with scopes_disabled():
        assert not ClientImport.objects.exists() and not Client.objects.exists()


def _bytes(path, data):
    path.write_bytes(data)
    return path


def test_a_million_rows_are_refused_before_reading_them(tenant, tmp_path, monkeypatch):
    monkeypatch.setattr("clients.import_files.MAX_ROWS", 20)
    path = write_csv(tmp_path / "many.csv", big_rows(21))
    with pytest.raises(ImportFileError) as refused:
        upload(tenant, path)
    assert refused.value.code == "too_many"
    path = write_xlsx(tmp_path / "many.xlsx", big_rows(21))
    with pytest.raises(ImportFileError):
        upload(tenant, path)


# -- 10,000 rows, 2% refused ------------------------------------------------------------------
def test_ten_thousand_rows_preview_commit_and_again_unchanged(tenant, tmp_path):
    path = write_xlsx(tmp_path / "clients.xlsx", big_rows(10_000))
    job = upload(tenant, path, "clients.xlsx")
    assert job.mapping == {
        "External ID": "external_ref",
        "Client name": "name",
        "E-mail": "email",
        "ITN": "itn",
        "Opening balance": "opening_balance",
    }
    assert job.preview == {"created": 9800, "updated": 0, "unchanged": 0, "refused": 200}
    first = job.refused_rows().first()
    assert first.line == 9 and first.field_label == "E-mail"
    with scopes_disabled():
        assert not Client.objects.exists()
    job = commit(job)
    assert job.status == ImportStatus.DONE, job.error
    assert job.counts == job.preview
    with scope(tenant=tenant):
        clients = Client.objects.for_tenant(tenant)
        assert clients.count() == 9800
        assert sorted(clients.values_list("number", flat=True)) == list(range(1, 9801))
        imported = Event.objects.for_tenant(tenant).filter(type="client.created")
        assert imported.filter(description__msgid="Imported from %(file)s").count() == 9800
        event = imported.order_by("pk").first()
        assert event.payload["source"] == "import" and event.payload["import"] == job.pk
        assert event.object_id == event.client_id
        assert (event.actor_kind, event.actor_label) == ("job", "import")
        balances = LedgerEntry.objects.for_tenant(tenant)
        assert balances.count() == 1000 and {e.amount for e in balances} == {Decimal("10.50")}
    again = upload(tenant, path, "clients.xlsx")
    assert again.preview == {"created": 0, "updated": 0, "unchanged": 9800, "refused": 200}
    with scope(tenant=tenant):  # the preview wrote nothing; a commit of it: the command's test
        assert Client.objects.for_tenant(tenant).count() == 9800


# -- matching ----------------------------------------------------------------------------------
def test_matching_by_itn_updates_only_mapped_fields(tenant, tmp_path):
    group = ClientGroupFactory(tenant=tenant, name="Corporate")
    known = ClientFactory(tenant=tenant, itn="7707083893", country="RU", phone="+100", name="Old")
    path = write_csv(
        tmp_path / "itn.csv",
        [
            ["INN", "Name", "Client type"],
            ["7707 083893", "New name", "corporate"],
            ["7707083893", "Twice", ""],
            ["", "No key", ""],
            ["5000000001", "Unknown type", "Nope"],
        ],
    )
    job = upload(tenant, path)
    assert job.match_by == "itn"
    assert job.preview == {"created": 0, "updated": 1, "unchanged": 0, "refused": 3}
    reasons = [(r.line, r.field_label) for r in job.refused_rows()]
    assert reasons == [(3, "ITN"), (4, "ITN"), (5, "Client type")]
    commit(job)
    with scopes_disabled():
        known.refresh_from_db()
    assert (known.name, known.group, known.phone) == ("New name", group, "+100")


def test_matching_by_login_normalises_the_phone_and_external_ref_is_chosen(tenant, tmp_path):
    known = ClientFactory(tenant=tenant, login="+4930123456", name="Same")
    path = write_csv(
        tmp_path / "login.csv",
        [["Login", "Country", "Name", "External ID"], ["030 123456", "DE", "Same", "X1"]],
    )
    job = upload(tenant, path)
    with scope(tenant=tenant):
        job = client_import_preview(job=job, mapping=job.mapping, match_by="login", actor=None)
    assert job.preview["updated"] == 1
    commit(job)
    with scopes_disabled():
        known.refresh_from_db()
    assert known.external_ref == "X1"


def test_another_tenants_references_touch_nothing_of_theirs(tenant, other_tenant, tmp_path):
    theirs = ClientFactory(tenant=other_tenant, external_ref="R1", name="Theirs")
    path = write_csv(tmp_path / "a.csv", [["External ID", "Name"], ["R1", "Mine"]])
    job = commit(upload(tenant, path))
    assert job.counts["created"] == 1
    with scopes_disabled():
        theirs.refresh_from_db()
        assert theirs.name == "Theirs"
        assert Client.objects.filter(tenant=tenant, external_ref="R1").count() == 1


# -- a killed worker ------------------------------------------------------------------------------
class Killed(BaseException):
    """What a kill -9 leaves: the worker stops between two chunks, reporting nothing."""


def test_a_killed_commit_resumes_and_posts_each_opening_balance_once(tenant, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "k.csv", big_rows(300, bad_every=1000))
    job = upload(tenant, path)
    with scope(tenant=tenant):
        job = client_import_commit(job=job, actor=None, queue=False)
    real = importing._write_chunk
    calls = []

    def dies_on_the_third_chunk(*args):
        calls.append(1)
        if len(calls) == 3:
            raise Killed
        return real(*args)

    monkeypatch.setattr(importing, "_write_chunk", dies_on_the_third_chunk)
    with scope(tenant=tenant), pytest.raises(Killed):
        client_import_execute(job=job, chunk_rows=100)
    with scopes_disabled():
        job.refresh_from_db()
        assert (job.status, job.rows_done) == ("running", 200)
        ClientImport.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now())
    with scope(tenant=tenant):
        job = client_import_execute(job=job, chunk_rows=100)
    assert job.status == ImportStatus.DONE
    assert job.counts == {"created": 299, "updated": 0, "unchanged": 0, "refused": 1}
    with scopes_disabled():
        assert Client.objects.filter(tenant=tenant).count() == 299
        assert LedgerEntry.objects.filter(tenant=tenant).count() == 30
        [finished] = Event.objects.filter(tenant=tenant, type="import.finished")
    assert (finished.object_type, finished.object_id) == ("client_import", job.pk)
    assert finished.payload == {
        "import": job.pk,
        "file": job.file_name,
        "rows": 300,
        "counts": job.counts,
    }


def test_the_sweep_requeues_an_expired_import_then_fails_it(tenant, tmp_path):
    from core.leases import leases_sweep

    path = write_csv(tmp_path / "s.csv", [["External ID", "Name"], ["R1", "A"]])
    job = upload(tenant, path)
    with scopes_disabled():
        ClientImport.objects.filter(pk=job.pk).update(
            status="running", attempts=3, lease_expires_at=timezone.now()
        )
    assert leases_sweep() == {"clients.clientimport:failed": 1}
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == "failed" and "worker stopped" in str(job.error)


# -- the command -------------------------------------------------------------------------------
def test_the_command_prints_the_counts_last(tenant, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["External ID", "Name"], ["R1", "A"], ["R2", ""]])
    out = io.StringIO()
    call_command("import_clients", "--tenant", tenant.slug, path, "--dry-run", stdout=out)
    assert out.getvalue().splitlines()[-1] == "created 1, updated 0, unchanged 0, refused 1"
    with scopes_disabled():
        assert not Client.objects.exists() and not ClientImport.objects.exists()
    out = io.StringIO()
    call_command("import_clients", "--tenant", tenant.slug, path, stdout=out)
    assert out.getvalue().splitlines()[-1] == "created 1, updated 0, unchanged 0, refused 1"
    out = io.StringIO()
    call_command("import_clients", "--tenant", tenant.slug, path, stdout=out)
    assert out.getvalue().splitlines()[-1] == "created 0, updated 0, unchanged 1, refused 1"


def test_the_confirmed_mapping_is_remembered_for_the_tenant(tenant, other_tenant, tmp_path):
    rows = [["Code", "Kunde"], ["K1", "Anna"]]
    job = upload(tenant, write_csv(tmp_path / "one.csv", rows))
    assert job.mapping == {"Code": "external_ref"}
    with scope(tenant=tenant):
        job = client_import_preview(
            job=job,
            mapping={"Code": "external_ref", "Kunde": "name"},
            match_by="external_ref",
            actor=None,
        )
    commit(job)
    again = upload(tenant, write_csv(tmp_path / "two.csv", rows))
    assert again.mapping == {"Code": "external_ref", "Kunde": "name"}
    assert again.preview["unchanged"] == 1
    elsewhere = upload(other_tenant, write_csv(tmp_path / "three.csv", rows))
    assert elsewhere.mapping == {"Code": "external_ref"}


# -- opening balances: who may post them, and never rounded or dropped ------------------------
BALANCES = [["External ID", "Client name", "Opening balance"], ["B1", "Anna", "12.50"]]


def upload_as(tenant, path, user):
    with scope(tenant=tenant):
        return client_import_upload(tenant=tenant, actor=user, path=path, file_name="b.csv")


def test_a_manager_may_not_post_opening_balances_through_the_import(tenant, tmp_path):
    manager = MembershipFactory(tenant=tenant, role="manager")
    job = upload_as(tenant, write_csv(tmp_path / "b.csv", BALANCES), manager.user)
    assert "opening_balance" not in job.mapping.values()
    with scope(tenant=tenant):
        assert "opening_balance" not in importing.importable_fields(tenant, manager.user)
        mapping = {**job.mapping, "Opening balance": "opening_balance"}
        with pytest.raises(ValidationError, match="Opening balance: your role may not"):
            client_import_preview(
                job=job, mapping=mapping, match_by="external_ref", actor=manager.user
            )
        ClientImport.objects.filter(pk=job.pk).update(mapping=mapping)  # as if it got through
        job.refresh_from_db()
        job = client_import_execute(job=client_import_commit(job=job, actor=None, queue=False))
    assert job.status == ImportStatus.FAILED and "your role may not" in str(job.error)
    with scopes_disabled():
        assert not Client.objects.exists() and not LedgerEntry.objects.exists()


@pytest.mark.parametrize("role", ["owner", "accountant"])
def test_a_right_to_post_adjustments_is_checked_again_when_the_import_runs(tenant, tmp_path, role):
    member = MembershipFactory(tenant=tenant, role=role)
    job = upload_as(tenant, write_csv(tmp_path / "b.csv", BALANCES), member.user)
    assert job.mapping["Opening balance"] == "opening_balance"
    with scope(tenant=tenant):
        job = client_import_commit(job=job, actor=member.user, queue=False)
    if role == "owner":
        job = commit_queued(job)
        assert job.status == ImportStatus.DONE, job.error
        with scopes_disabled():
            assert [e.amount for e in LedgerEntry.objects.all()] == [Decimal("12.50")]
        return
    member.role = "viewer"  # the right is taken away while the import waits for its worker
    member.save()
    job = commit_queued(job)
    assert job.status == ImportStatus.FAILED and "your role may not" in str(job.error)
    with scopes_disabled():
        assert not Client.objects.exists() and not LedgerEntry.objects.exists()


def commit_queued(job):
    with scope(tenant=job.tenant):
        return client_import_execute(job=job)


@pytest.mark.parametrize("cell", ["10.005", "1e400", "NaN", "Infinity", "123456789012345678"])
def test_an_opening_balance_is_refused_rather_than_rounded(tenant, tmp_path, cell):
    rows = [BALANCES[0], ["B1", "Anna", cell], ["B2", "Boris", "10.01"]]
    job = upload(tenant, write_csv(tmp_path / "b.csv", rows))
    refused = job.refused_rows().get()
    assert job.preview["refused"] == 1 and refused.line == 2
    assert refused.field_label == "Opening balance" and refused.reason
    job = commit(job)
    assert job.counts["created"] == 1 and job.counts["refused"] == 1
    with scopes_disabled():
        assert [e.amount for e in LedgerEntry.objects.all()] == [Decimal("10.01")]


def test_a_refused_opening_balance_fails_the_chunk_rather_than_count_it_created(tenant, tmp_path):
    """The posting's key was taken by another entry: the client must not be created without
    its balance."""
    path = write_csv(tmp_path / "b.csv", BALANCES)
    job = upload(tenant, path)
    with scope(tenant=tenant):
        before = ClientFactory(tenant=tenant)
        account = Account.objects.for_tenant(tenant).get(client=before)
        key = opening_balance_key(tenant=tenant, client_id=before.pk + 1, file_hash=job.file_hash)
        taken = Posting(
            account_id=account.pk,
            amount=Decimal("1.00"),
            kind=EntryKind.ADJUSTMENT,
            purpose=literal_text("Other"),
            idempotency_key=key,
        )
        assert ledger_post_chunk(tenant=tenant, postings=[taken])[0].posted
    job = commit(job)
    assert job.status == ImportStatus.FAILED
    assert "Opening balance of a client of lines 2–2 was refused" in str(job.error)
    with scopes_disabled():
        assert list(Client.objects.values_list("pk", flat=True)) == [before.pk]
        assert LedgerEntry.objects.count() == 1


# -- a provider's own data ----------------------------------------------------------------------
def test_a_stored_value_of_another_era_in_the_file_as_it_is_stored_is_unchanged(tenant, tmp_path):
    """Importing again the file a client came from keeps what today's form would refuse (an
    e-mail that is no address) when the cell is what the client already holds, as the edit
    form does; a changed cell of that row is validated and written."""
    ClientFactory(tenant=tenant, external_ref="L1", name="Long Ago", email="accounts at old-domain")
    same = [["External ID", "Name", "E-mail"], ["L1", "Long Ago", "accounts at old-domain"]]
    assert upload(tenant, write_csv(tmp_path / "same.csv", same)).preview == {
        "created": 0,
        "updated": 0,
        "unchanged": 1,
        "refused": 0,
    }
    renamed = [same[0], ["L1", "Renamed", "accounts at old-domain"]]
    job = upload(tenant, write_csv(tmp_path / "renamed.csv", renamed))
    assert job.preview == {"created": 0, "updated": 1, "unchanged": 0, "refused": 0}
    commit(job)
    with scopes_disabled():
        kept = Client.objects.get(tenant=tenant, external_ref="L1")
    assert (kept.name, kept.email) == ("Renamed", "accounts at old-domain")


# -- the rows the preview kept -------------------------------------------------------------------
KEPT = [
    ["External ID", "Name", "Last purchase date", "SMS subscription"],
    ["K1", "Dated", datetime(2024, 5, 6, 7, 8), True],
    ["K2", "Day only", date(2023, 1, 2), None],
]


def test_the_kept_rows_read_back_as_the_file_gave_them(tenant, tmp_path):
    path = write_xlsx(tmp_path / "kept.xlsx", KEPT)
    job = upload(tenant, path)
    kept = kept_rows_path(job.file.path)
    assert list(kept_rows(kept)) == list(iter_rows(identify(path, "kept.xlsx")))


def test_the_commit_reads_the_kept_rows_not_the_workbook(tenant, tmp_path, monkeypatch):
    job = upload(tenant, write_xlsx(tmp_path / "kept.xlsx", KEPT))
    monkeypatch.setattr(importing, "iter_rows", lambda source: pytest.fail("read again"))
    assert commit(job).counts["created"] == 2


def test_an_import_without_kept_rows_reads_its_file_again(tenant, tmp_path):
    job = upload(tenant, write_xlsx(tmp_path / "kept.xlsx", KEPT))
    os.unlink(kept_rows_path(job.file.path))
    assert commit(job).counts["created"] == 2


def test_a_file_refused_half_way_keeps_no_rows(tenant, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    rows = [KEPT[0], ["K1", "Fine", "", ""], ["K2", "=1+1", "", ""]]
    with pytest.raises(ImportFileError):
        upload(tenant, write_xlsx(tmp_path / "formula.xlsx", rows))
    with pytest.raises(ImportFileError):
        upload(tenant, write_csv(tmp_path / "empty.csv", []))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "formula.xlsx"]

"""No cell of any export is ever a formula, whatever the text: property-based tests over
arbitrary text, for the writer itself and for every registered export kind, driven through a
text field that an operator or a message can set. Each saved file is checked twice: reopened
with openpyxl, and by reading the sheet XML for a formula element."""

import unicodedata
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from billing.services import account_charge, account_top_up
from core.stored_text import literal_text
from events.services import event_record
from exports.lists import LIST_EXPORT_KIND
from exports.registry import EXPORT_KINDS
from exports.services import export_job_create, export_job_execute
from exports.xlsx import XlsxColumn, XlsxStreamWriter
from messaging.models import DailyRouteStat, DailySenderStat
from tests.factories import ClientFactory, make_account

SIGNS = "=+-@＝＋－＠﹦﹢﹣﹫−"
# What a spreadsheet or a CSV import skips before it decides that a cell is a formula.
SKIPPED = " \t\r\n\x0b\x0c\x01\x1f\x00\x7f\u00a0\u2028\u200b\ufeff\u3000"
DDE = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")']

hostile_text = st.one_of(
    st.text(),
    st.builds(
        lambda junk, sign, rest: junk + sign + rest,
        st.text(alphabet=SKIPPED, max_size=4),
        st.sampled_from(SIGNS),
        st.text(max_size=20),
    ),
    st.builds(
        lambda junk, dde: junk + dde, st.text(alphabet=SKIPPED, max_size=3), st.sampled_from(DDE)
    ),
)
# PostgreSQL refuses NUL in text, so text stored first goes without it.
storable_text = hostile_text.map(lambda text: text.replace("\x00", ""))

HYPOTHESIS = hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def would_run_as_formula(text: str) -> bool:
    """The spreadsheet's reading: past blanks and invisible characters, a formula sign."""
    visible = [ch for ch in text if not ch.isspace() and unicodedata.category(ch)[0] not in "CZM"]
    if not visible:
        return False
    return visible[0] == "−" or unicodedata.normalize("NFKC", visible[0])[:1] in "=+-@"


def assert_no_formula(source) -> list[str]:
    """Every sheet of the file: no <f> element, no formula cell, no text that would run as
    one. Returns the texts of the file's cells."""
    with zipfile.ZipFile(source) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode()
                assert "<f>" not in xml and "<f " not in xml, name
    if hasattr(source, "seek"):
        source.seek(0)
    texts = []
    for sheet in load_workbook(source).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not would_run_as_formula(cell.value), (cell.coordinate, cell.value)
                    texts.append(cell.value)
    return texts


# -- the writer --------------------------------------------------------------------------------
WRITER_COLUMNS = [XlsxColumn("Text"), XlsxColumn("Date", "date"), XlsxColumn("Amount", "money")]


@HYPOTHESIS
@given(text=hostile_text)
def test_writer_never_writes_a_formula(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("xlsx") / "hostile.xlsx"
    with XlsxStreamWriter(path, columns=[XlsxColumn(text or "Header"), *WRITER_COLUMNS]) as writer:
        writer.write_row([text, text, text or None, Decimal("1")])
        writer.start_sheet(text or "Other", WRITER_COLUMNS)
        writer.write_row([text, date(2026, 1, 1), Decimal("2")])
    assert_kept(assert_no_formula(path), [text])


def xml_text(text: str) -> str:
    """The text as the file can hold it: without the characters XML refuses."""
    return "".join(ch for ch in text if ch in "\t\n\r" or not 0 <= ord(ch) < 32)


def line_breaks_as_read(text: str) -> str:
    """XML readers turn CR LF and CR into LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def assert_kept(texts: list[str], originals: list[str]) -> None:
    """Each original text is in the file, an apostrophe in front when it would run as a
    formula: the neutraliser defuses, it does not lose what the operator typed."""
    found = {line_breaks_as_read(t) for t in texts}
    for original in originals:
        kept = line_breaks_as_read(xml_text(original))
        if kept.strip():
            assert kept in found or "'" + kept in found, (kept, texts)


# -- every export kind, each driven through a text field --------------------------------------
def run_export(tenant, owner, kind, **parameters):
    job = export_job_create(
        tenant=tenant,
        actor=owner.user,
        kind=kind,
        parameters={"start": "2026-03-01", "end": "2026-03-31", **parameters},
    )
    job = export_job_execute(job=job)
    assert job.status == "done", job.error
    with job.file.open("rb") as handle:
        return assert_no_formula(handle)


def drive_ledger(tenant, owner, text):
    """A top-up comment and a charge's purpose and comment. Returns the file's texts and the
    stored texts that must be in it."""
    customer = ClientFactory(tenant=tenant)
    account = make_account(customer)
    at = datetime(2026, 3, 10, 12, 0, tzinfo=tenant.zone)
    top_up = account_top_up(
        account=account, amount="10", comment=text[:500], actor=owner.user, at=at
    )
    charge = account_charge(
        account=account,
        amount="1",
        purpose=literal_text(text[:255] or "-"),
        comment=text[:500],
        at=at,
    )
    texts = run_export(tenant, owner, "billing.ledger", client_number=customer.number)
    return texts, [top_up.comment, str(charge.purpose), charge.comment]


def drive_statistics(tenant, owner, text):
    """A message sender and an operator name, as the rollups hold them."""
    customer = ClientFactory(tenant=tenant)
    common = {"tenant": tenant, "client": customer, "day": date(2026, 3, 10), "channel": "sms"}
    with scopes_disabled():
        sender = DailySenderStat.objects.create(
            **common, sender=text[:16], messages=1, sent_parts=1
        )
        route = DailyRouteStat.objects.create(
            **common, country="DE", operator=text[:64], messages=1, sent_parts=1
        )
    texts = run_export(
        tenant,
        owner,
        "messaging.statistics",
        client_number=customer.number,
        reports=["sender", "operator", "viber_sender", "country", "day"],
        columns=["sent", "messages", "price"],
    )
    return texts, [sender.sender, route.operator]


def drive_list(tenant, owner, text):
    """The list export of the audit page (an event's description, as the page shows it) and
    of a selection of the client list (a client's name and company)."""
    description = text[:500] or "-"
    with transaction.atomic():
        event_record(tenant=tenant, type="client.updated", description=literal_text(description))
    customer = ClientFactory(tenant=tenant, name=text[:200] or "-", company=text[:200])
    audit = run_export(tenant, owner, LIST_EXPORT_KIND, path=reverse("events:event_list"))
    clients = run_export(
        tenant,
        owner,
        LIST_EXPORT_KIND,
        path=reverse("clients:client_list"),
        columns=["number", "name", "company"],
        ids=[customer.pk],
    )
    return audit + clients, [description, customer.name, customer.company]


DRIVERS = {
    "billing.ledger": drive_ledger,
    "messaging.statistics": drive_statistics,
    LIST_EXPORT_KIND: drive_list,
}


def test_every_export_kind_has_a_hostile_text_driver():
    """A new export kind fails here until it is driven below."""
    assert set(DRIVERS) == set(EXPORT_KINDS)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(DRIVERS))
@HYPOTHESIS
@given(text=storable_text)
def test_no_export_kind_writes_a_formula(tenant, owner, settings, tmp_path_factory, kind, text):
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("media")
    texts, stored = DRIVERS[kind](tenant, owner, text)
    assert_kept(texts, stored)

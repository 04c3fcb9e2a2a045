"""One format everywhere: the same amount, date and count on a page, in its export and in the
API, in both languages.

A client of a tenant in roubles (dates d.m.Y, Moscow time) has one top-up of 1234.56 on
5 January 2026 at 09:15. The Finance tab shows the balance as "1 234,56 ₽" in Russian (no-break
spaces: core/formatting.py) and "1,234.56 RUB" in English, the entry's date in the tenant's
format in both; the .xlsx of the tab has the number 1234.56 in a numeric cell with a number
format and the date as a date cell, in both; the API answers "1234.56" and the ISO date in
both. The client list counts its clients in the language's plural forms at 1, 2, 5, 11, 21.
"""

import re
from datetime import datetime
from decimal import Decimal
from html import unescape
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from billing.services import account_for_client, account_top_up
from exports.models import ExportJob, ExportStatus
from exports.tasks import export_job_run
from tests.api.conftest import (  # noqa: F401 - the API's live-server fixtures
    api_as,
    http_sessions,
    issue_token,
)
from tests.factories import ClientFactory, MembershipFactory, TenantFactory
from tests.helpers import RUSSIAN_PLURAL_FORMS

ZONE = ZoneInfo("Europe/Moscow")
AT = datetime(2026, 1, 5, 9, 15, tzinfo=ZONE)
PERIOD = {"start": "2026-01-01", "end": "2026-01-31"}
NBSP = "\N{NO-BREAK SPACE}"
BALANCE = {"ru": f"1{NBSP}234,56{NBSP}₽", "en": "1,234.56 RUB"}
SHOWN_DATE = "05.01.2026"  # the tenant's d.m.Y, whatever the language
TENANT = {"currency": "RUB", "time_zone": "Europe/Moscow", "date_format": "d.m.Y"}


def with_one_top_up(tenant, actor=None):
    client = ClientFactory(tenant=tenant, name="Ромашка")
    with scopes_disabled():
        account = account_for_client(client=client)
        account_top_up(account=account, amount=Decimal("1234.56"), at=AT, actor=actor)
    return client


def element_text(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</', html, re.S)
    assert match, f'no data-testid="{testid}"'
    return " ".join(unescape(re.sub(r"<[^>]+>", "", match.group(1))).split(" ")).strip()


@pytest.fixture
def finance(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    tenant = TenantFactory(**TENANT)
    owner = MembershipFactory(tenant=tenant, role="owner")
    return tenant, owner, with_one_top_up(tenant, owner.user)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_finance_tab_shows_the_amount_and_date_in_the_languages_format(finance, language):
    tenant, owner, client = finance
    http = HttpClient(HTTP_ACCEPT_LANGUAGE=language)
    http.force_login(owner.user)
    url = reverse("billing:client_finance", kwargs={"number": client.number})
    page = http.get(url, PERIOD)
    assert page.status_code == 200
    html = page.content.decode()
    assert element_text(html, "balance") == BALANCE[language]
    assert element_text(html, "closing-balance") == BALANCE[language]
    shown = unescape(re.sub(r"<[^>]+>", " ", html))
    assert f"{SHOWN_DATE} 09:15" in shown, "the entry's date in the tenant's format and zone"
    assert "01.01.2026" in shown and "31.01.2026" in shown, "the period in the tenant's format"
    assert "2026-01-05" not in shown


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_finance_export_writes_a_number_and_a_date(finance, language):
    tenant, owner, client = finance
    http = HttpClient(HTTP_ACCEPT_LANGUAGE=language)
    http.force_login(owner.user)
    with scopes_disabled():
        before = set(ExportJob.objects.values_list("pk", flat=True))
    url = reverse("billing:client_finance_export", kwargs={"number": client.number})
    assert http.post(url, {**PERIOD, "token": f"formats-{language}"}).status_code in (200, 302)
    with scopes_disabled():
        job = ExportJob.objects.exclude(pk__in=before).get()
    with translation.override("en"):  # the worker's
        export_job_run(job.pk, tenant_id=tenant.pk)
    with scopes_disabled():
        job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    with job.file.open("rb") as handle:
        sheet = load_workbook(BytesIO(handle.read())).worksheets[0]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    amounts = [c for c in cells if c.data_type == "n" and c.value == pytest.approx(1234.56)]
    assert amounts, [c.value for c in cells]
    for cell in amounts:
        assert cell.number_format not in ("General", "@"), cell.coordinate
        assert "0.00" in cell.number_format, cell.number_format
    dates = [c for c in cells if c.is_date]
    assert [c.value for c in dates] == [datetime(2026, 1, 5, 9, 15)]  # the tenant's wall clock
    assert dates[0].number_format not in ("General", "@")
    assert not any(isinstance(c.value, str) and "1234" in c.value.replace(" ", "") for c in cells)


@pytest.fixture
def api_finance(transactional_db):
    tenant = TenantFactory(**TENANT, uses_reseller=False)
    return tenant, with_one_top_up(tenant)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_the_api_answers_plain_numbers_and_iso_dates(api_finance, api_as, language):  # noqa: F811
    tenant, client = api_finance
    api = api_as(tenant, "owner")
    api.session.headers["Accept-Language"] = language
    account = api.get(f"clients/{client.number}/account/")
    assert account.status_code == 200, account.text
    assert account.json()["balance"] == "1234.56"
    ledger = api.get(f"clients/{client.number}/ledger/", params=PERIOD)
    assert ledger.status_code == 200, ledger.text
    (entry,) = ledger.json()["items"]
    assert entry["amount"] == "1234.56" and entry["balance_after"] == "1234.56"
    assert re.fullmatch(
        r"2026-01-0[45]T\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", entry["created_at"]
    )
    assert datetime.fromisoformat(entry["created_at"].replace("Z", "+00:00")) == AT


# -- plural forms ----------------------------------------------------------------------------
COUNTS = tuple(n for n, _form in RUSSIAN_PLURAL_FORMS)


def count_words(language: str, settings, tmp_path) -> dict[int, str]:
    """The client list's count at 1, 2, 5, 11 and 21 clients: {n: the word after n}."""
    settings.MEDIA_ROOT = tmp_path / "media"
    tenant = TenantFactory()
    owner = MembershipFactory(tenant=tenant, role="owner")
    http = HttpClient(HTTP_ACCEPT_LANGUAGE=language)
    http.force_login(owner.user)
    words, made = {}, 0
    for n in COUNTS:
        ClientFactory.create_batch(n - made, tenant=tenant)
        made = n
        text = element_text(http.get(reverse("clients:client_list")).content.decode(), "row-count")
        match = re.fullmatch(rf"{n}\s+(\w+)(?:\s.*)?", text)
        assert match, f"{n} clients counted as {text!r}"
        words[n] = match.group(1)
    return words


@pytest.mark.django_db
def test_the_client_count_takes_russian_plural_forms(settings, tmp_path):
    words = count_words("ru", settings, tmp_path)
    assert all(re.fullmatch(r"[А-Яа-яЁё]+", w) for w in words.values()), words
    assert words[1] == words[21], f"1 and 21 take form 0: {words}"
    assert words[5] == words[11], f"5 and 11 take form 2: {words}"
    assert len({words[1], words[2], words[5]}) == 3, f"three forms: {words}"


@pytest.mark.django_db
def test_the_client_count_takes_english_plural_forms(settings, tmp_path):
    words = count_words("en", settings, tmp_path)
    assert words[2] == words[5] == words[11] == words[21] != words[1], words

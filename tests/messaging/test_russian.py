"""Messaging in Russian: the daily charge's description in its plural forms, a sender ID's
validation error, an ingestion item's reason, the Statistics tab and its .xlsx export (sheet
names, headers, country names, flags)."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from exports.models import ExportJob, ExportStatus
from messaging.numbers import country_name
from messaging.services import charge_purpose, messages_ingest, rollups_refresh
from tests.factories import ClientFactory, SenderIdFactory, message_record
from tests.helpers import russian_plurals

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


@pytest.mark.parametrize(
    ("parts", "words"), russian_plurals(("{n} часть", "{n} части", "{n} частей"))
)
def test_charge_description_plural_forms(parts, words):
    with translation.override("ru"):
        assert str(charge_purpose(date(2026, 3, 10), parts)).endswith(f", {words}")
    with translation.override("en"):
        one = str(charge_purpose(date(2026, 3, 10), 1))
        assert one.endswith(", 1 part")
        assert str(charge_purpose(date(2026, 3, 10), 2)).endswith("parts")


def test_country_names_follow_the_language():
    with translation.override("ru"):
        assert country_name("DE") == "Германия" and country_name("") == "Неизвестная страна"
    with translation.override("en"):
        assert country_name("DE") == "Germany" and country_name("") == "Unknown country"


def test_sender_validation_error_in_russian(client, owner, tenant):
    customer = ClientFactory(tenant=tenant)
    url = reverse("messaging:sender_create", kwargs={"number": customer.number})
    response = client.post(url, {"name": "TwelveLetter", "channel": "sms"}, **RU)
    assert response.status_code == 400
    assert "Буквенно-цифровой отправитель — не более 11 символов." in response.content.decode()


def test_ingestion_reason_in_russian_the_state_stays_a_code(tenant):
    customer = ClientFactory(tenant=tenant)
    with scopes_disabled(), translation.override("ru"):
        result = messages_ingest(
            tenant=tenant,
            records=[message_record(customer, key="1", channel="fax")],
            answer_items=True,
        )
    (item,) = result.items
    assert item.state == "refused" and item.reason == "channel: «fax» — не sms и не viber."


@pytest.fixture
def traffic(tenant):
    customer = ClientFactory(tenant=tenant, sms_price=Decimal("0.05"))
    SenderIdFactory(client=customer, name="Bank", status="pending")
    records = [
        message_record(customer, key="1", sender="Bank", sent_at="2026-03-10T10:00:00Z"),
        message_record(
            customer, key="2", recipient="+4915112345678", sent_at="2026-03-11T10:00:00Z"
        ),
    ]
    with scopes_disabled():
        messages_ingest(tenant=tenant, records=records)
        rollups_refresh(tenant=tenant)
    return customer


def test_statistics_tab_in_russian(client, owner, traffic):
    url = reverse("messaging:client_statistics", kwargs={"number": traffic.number})
    body = client.get(url, {"report": "country", "start": "2026-03-01", "end": "2026-03-31"}, **RU)
    text = body.content.decode()
    assert "Группировка по странам" in text and "Германия" in text and "Итого" in text
    assert "Отправлено SMS (частей)" in text
    chart = body.context["chart"]
    assert [d["label"] for d in chart["datasets"]] == ["Отправлено (частей)", "Доставлено (частей)"]


def test_export_in_the_language_of_who_asked(
    client, owner, traffic, django_capture_on_commit_callbacks
):
    url = reverse("messaging:client_statistics_export", kwargs={"number": traffic.number})
    form = {
        "start": "2026-03-01",
        "end": "2026-03-31",
        "channel": "",
        "reports": ["day", "operator", "sender"],
        "columns": ["sent", "price"],
        "token": "0b6a3c1e-6f2a-4d51-9a77-1f5c3f3b2a11",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, form, **RU)
    with scopes_disabled():
        (job,) = ExportJob.objects.all()
    assert job.status == ExportStatus.DONE, job.error
    with job.file.open("rb") as handle:
        book = load_workbook(handle)
    assert book.sheetnames == ["По дням", "По операторам", "По отправителям"]
    day = [list(r) for r in book["По дням"].iter_rows(values_only=True)]
    assert day[0] == ["Дата", "Отправлено SMS (частей)", "Цена SMS (EUR)"]
    assert day[-1][0] == "Итого"
    operator = [list(r) for r in book["По операторам"].iter_rows(values_only=True)]
    assert operator[0][:2] == ["Страна", "Оператор связи"]
    assert "Германия" in [r[0] for r in operator[1:-1]]
    sender = [list(r) for r in book["По отправителям"].iter_rows(values_only=True)]
    assert sender[0][:2] == ["Отправитель", "Статус отправителя"]
    assert ["Bank", "Не одобрен (на рассмотрении)"] in [r[:2] for r in sender[1:-1]]

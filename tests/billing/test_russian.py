"""The Finance tab, its messages, its export and the credit-limit notice in Russian: the words
of the catalogue and amounts in the Russian separators with the currency's sign."""

from datetime import date
from uuid import uuid4

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scope

from billing.exports import build_ledger_export
from billing.forms import TopUpForm
from billing.models import EntryKind
from billing.services import account_set_credit_limit, account_top_up
from core.formatting import NBSP, formats_of
from core.stored_text import stored_gettext
from events.outbox import OutboxEmail
from tests.factories import ClientFactory, make_account

pytestmark = pytest.mark.django_db
RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}


@pytest.fixture
def rub_tenant(tenant):
    tenant.currency = "RUB"
    tenant.save()
    return tenant


@pytest.fixture
def customer(rub_tenant):
    return ClientFactory(tenant=rub_tenant, name="Acme Customer", email="c@example.com")


def test_finance_tab_in_russian_shows_amounts_with_the_sign(client, owner, customer):
    make_account(customer, balance="1234.5", credit_limit="100")
    page = client.get(
        reverse("billing:client_finance", kwargs={"number": customer.number}), **RU
    ).content.decode()
    assert "Кредитный лимит" in page and "Начальный баланс" in page
    assert f"1{NBSP}234,50{NBSP}₽" in page
    assert "Пополнить счёт" in page


def test_top_up_message_in_russian(client, owner, customer):
    make_account(customer)
    url = reverse("billing:client_top_up", kwargs={"number": customer.number})
    data = {"topup-amount": "1500", "topup-comment": "", "topup-token": uuid4()}
    page = client.post(url, data, follow=True, **RU).content.decode()
    assert f"Счёт пополнен на 1{NBSP}500,00{NBSP}₽. Новый баланс: 1{NBSP}500,00{NBSP}₽." in page


def test_amount_errors_in_russian():
    with translation.override("ru"):
        form = TopUpForm({"topup-amount": "abc", "topup-token": uuid4()})
        assert list(form.errors["amount"]) == ["Введите число, например 150,00."]
        form = TopUpForm({"topup-amount": "-5", "topup-token": uuid4()})
        assert list(form.errors["amount"]) == ["Сумма не может быть отрицательной."]
        form = TopUpForm({"topup-amount": "", "topup-token": uuid4()})
        assert list(form.errors["amount"]) == ["Введите сумму."]
    with translation.override("en"):
        form = TopUpForm({"topup-amount": "abc", "topup-token": uuid4()})
        assert list(form.errors["amount"]) == ["Enter a number, e.g. 150.00."]


def test_credit_limit_notice_in_russian(customer, rub_tenant):
    """In the client's language, whatever language the operator who changed the limit reads."""
    customer.language = "ru"
    customer.save(update_fields=["language"])
    account = make_account(customer)
    with scope(tenant=rub_tenant), translation.override("en"):
        change = account_set_credit_limit(account=account, credit_limit="2500", notify=True)
        email = OutboxEmail.objects.for_tenant(rub_tenant).get(key=f"credit:{change.pk}")
    assert email.subject == f"Tenant A: ваш кредитный лимит теперь 2{NBSP}500,00{NBSP}₽"
    assert f"изменён с 0,00{NBSP}₽ на 2{NBSP}500,00{NBSP}₽" in email.body
    assert "Здравствуйте" in email.body and "Dear" not in email.body


def test_credit_limit_notice_in_english_keeps_its_words(customer, rub_tenant):
    customer.language = "en"
    customer.save(update_fields=["language"])
    account = make_account(customer)
    with scope(tenant=rub_tenant), translation.override("ru"):
        change = account_set_credit_limit(account=account, credit_limit="2500", notify=True)
        email = OutboxEmail.objects.for_tenant(rub_tenant).get(key=f"credit:{change.pk}")
    assert email.subject == "Tenant A: your credit limit is now 2,500.00 RUB"
    assert "has been changed from 0.00 RUB to 2,500.00 RUB" in email.body


def test_ledger_export_headers_and_sheet_in_russian(customer, rub_tenant):
    account = make_account(customer)
    with scope(tenant=rub_tenant):
        account_top_up(account=account, amount="10")

    class Job:
        tenant = rub_tenant
        parameters = {
            "client_number": customer.number,
            "start": date(2000, 1, 1).isoformat(),
            "end": date(2100, 1, 1).isoformat(),
        }

    with translation.override("ru"), formats_of(rub_tenant):
        spec = build_ledger_export(Job())
        rows = list(spec.rows)
    assert [c.header for c in spec.columns] == [
        "№ операции",
        "Дата",
        "Кредит (RUB)",
        "Дебет (RUB)",
        "Назначение",
        "Комментарий",
        "Вид",
        "Баланс (RUB)",
    ]
    assert spec.sheet_title == f"Клиент {customer.number}"
    assert rows[0][6] == "Пополнение"
    with translation.override("en"):
        assert build_ledger_export(Job()).columns[2].header == "Credit (RUB)"


def test_entry_kinds_and_default_purpose_in_russian(customer, rub_tenant):
    with translation.override("ru"):
        assert str(EntryKind.TOP_UP.label) == "Пополнение"
        assert str(EntryKind.REFUND.label) == "Возврат"
        with scope(tenant=rub_tenant):
            entry = account_top_up(account=make_account(customer), amount="5")
    assert entry.purpose == stored_gettext("Account top-up")  # the message, not the words
    with translation.override("ru"):
        assert str(entry.purpose) == "Пополнение счёта"
    with translation.override("en"):
        assert str(entry.purpose) == "Account top-up"


def test_a_purpose_stored_in_english_reads_in_russian(client, owner, customer, rub_tenant):
    account = make_account(customer)
    with scope(tenant=rub_tenant), translation.override("en"):
        account_top_up(account=account, amount="5")
    page = client.get(
        reverse("billing:client_finance", kwargs={"number": customer.number}), **RU
    ).content.decode()
    assert "Пополнение счёта" in page and "Account top-up" not in page

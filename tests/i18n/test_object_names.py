"""What the admin calls a row (its `__str__`: the change list, breadcrumbs, the delete
confirmation) reads in the admin's language, amounts and dates in its formats, never an
English phrase around a Russian value."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.utils import translation

from billing.models import Account, CreditLimitChange
from clients.models import ClientImportRefusal
from core.stored_text import literal_text
from holds.models import ClientHold, FundsShortfall, HoldKind
from messaging.models import MessagingCharge
from routers.models import RouterAdoption

SINCE = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)

CASES = [
    (
        lambda: Account(client_id=7, balance=Decimal("1234.5")),
        "Account of client 7: 1,234.50",
        "Счёт клиента 7: 1\xa0234,50",
    ),
    (
        lambda: CreditLimitChange(old_limit=Decimal("0"), new_limit=Decimal("1500")),
        "Credit limit 0.00 → 1,500.00",
        "Кредитный лимит 0,00 → 1\xa0500,00",
    ),
    (
        lambda: ClientHold(kind=HoldKind.ADMINISTRATIVE, reason=literal_text("Fraud check")),
        "Administrative hold (in force): Fraud check",
        "Административная блокировка (действует): Fraud check",
    ),
    (
        lambda: FundsShortfall(client_id=7, since=SINCE),
        "Client 7 below zero since ",
        "Клиент 7 в минусе с ",
    ),
    (
        lambda: ClientImportRefusal(line=12, reason=literal_text("Enter a valid e-mail")),
        "line 12: Enter a valid e-mail",
        "строка 12: Enter a valid e-mail",
    ),
    (
        lambda: RouterAdoption(router_id=3, total=5, status="done"),
        "3: 5 secrets (",
        "3: 5 секретов (",
    ),
    (
        lambda: MessagingCharge(
            client_id=7,
            day=date(2026, 3, 4),
            due_amount=Decimal("1234.5"),
            charged_amount=Decimal("0"),
        ),
        ": due 1,234.50, charged 0.00",
        ": к оплате 1\xa0234,50, списано 0,00",
    ),
]


@pytest.mark.parametrize("make, english, russian", CASES)
def test_a_rows_name_reads_in_the_admins_language(make, english, russian):
    row = make()
    with translation.override("en"):
        assert english in str(row)
    with translation.override("ru"):
        assert russian in str(row)

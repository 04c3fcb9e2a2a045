from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.models import MONEY_LIMIT, Account, EntryKind, LedgerEntry
from billing.services import (
    AmountOutOfRange,
    IdempotencyConflict,
    InsufficientFunds,
    LedgerError,
    account_charge,
    account_for_client,
    account_ids_for_clients,
    account_refund,
    account_set_credit_limit,
    account_top_up,
    entry_reverse,
    opening_balances_post,
    to_money,
)
from core.stored_text import literal_text
from events.outbox import OutboxEmail
from tests.factories import ClientFactory, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(tenant):
    return make_account(ClientFactory(tenant=tenant))


def entries(account):
    with scopes_disabled():
        return list(LedgerEntry.objects.filter(account=account).order_by("created_at", "id"))


def reload(account):
    with scopes_disabled():
        return Account.objects.get(pk=account.pk)


def test_client_gets_an_account_when_created(tenant):
    client = ClientFactory(tenant=tenant)
    with scopes_disabled():
        assert Account.objects.filter(client=client, balance=0, credit_limit=0).exists()


def test_account_ids_for_clients_gives_the_missing_ones_and_opening_balances_post_to_them(
    tenant,
):
    """Clients loaded without accounts get them (an opening balance too), the others keep
    theirs."""
    kept, bare = ClientFactory(tenant=tenant), ClientFactory(tenant=tenant)
    with scopes_disabled():
        kept_account = Account.objects.get(client=kept).pk
        Account.objects.filter(client=bare).delete()
        (result,) = opening_balances_post(
            tenant=tenant, actor=None, file_name="a.xlsx", file_hash="f" * 64, values=[(bare.pk, 5)]
        )
        ids = account_ids_for_clients(tenant=tenant, client_ids=[kept.pk, bare.pk])
        assert ids == {kept.pk: kept_account, bare.pk: Account.objects.get(client=bare).pk}
        assert (result.entry.account_id, reload(result.entry.account).balance) == (
            ids[bare.pk],
            Decimal("5.00"),
        )
        assert account_ids_for_clients(tenant=tenant, client_ids=[]) == {}


def test_account_for_client_is_get_or_create(tenant):
    client = ClientFactory(tenant=tenant)
    with scopes_disabled():
        Account.objects.filter(client=client).delete()
        first = account_for_client(client=client)
        second = account_for_client(client=client)
        assert first.pk == second.pk
        assert Account.objects.filter(client=client).count() == 1


def test_top_up_writes_entry_and_balance(account, owner):
    entry = account_top_up(account=account, amount=Decimal("150.50"), actor=owner.user, comment="x")
    assert entry.kind == EntryKind.TOP_UP
    assert entry.amount == Decimal("150.50")
    assert entry.balance_after == Decimal("150.50")
    assert entry.operator == owner.user
    assert entry.replayed is False
    assert reload(account).balance == Decimal("150.50")


def test_same_key_posts_once(account):
    first = account_top_up(account=account, amount=Decimal("10"), idempotency_key="k1")
    again = account_top_up(account=account, amount=Decimal("10"), idempotency_key="k1")
    assert again.pk == first.pk and again.replayed is True
    assert reload(account).balance == Decimal("10.00")
    assert len(entries(account)) == 1


def test_same_key_with_other_amount_is_an_error(account):
    account_top_up(account=account, amount=Decimal("10"), idempotency_key="k1")
    with pytest.raises(IdempotencyConflict):
        account_top_up(account=account, amount=Decimal("11"), idempotency_key="k1")
    assert reload(account).balance == Decimal("10.00")


def test_same_key_on_another_account_is_an_error(tenant, account):
    other = make_account(ClientFactory(tenant=tenant))
    account_top_up(account=account, amount=Decimal("10"), idempotency_key="k1")
    with pytest.raises(IdempotencyConflict):
        account_top_up(account=other, amount=Decimal("10"), idempotency_key="k1")
    assert reload(other).balance == 0


def test_keys_are_per_tenant(account, other_tenant):
    other = make_account(ClientFactory(tenant=other_tenant))
    account_top_up(account=account, amount=Decimal("10"), idempotency_key="k1")
    entry = account_top_up(account=other, amount=Decimal("10"), idempotency_key="k1")
    assert entry.replayed is False


def test_charge_within_credit_limit(tenant):
    account = make_account(ClientFactory(tenant=tenant), balance="20", credit_limit="30")
    entry = account_charge(account=account, amount=Decimal("50"), purpose=literal_text("SMS"))
    assert entry.amount == Decimal("-50.00") and entry.balance_after == Decimal("-30.00")
    with pytest.raises(InsufficientFunds):
        account_charge(account=account, amount=Decimal("0.01"), purpose=literal_text("SMS"))
    assert reload(account).balance == Decimal("-30.00")


def test_charge_with_overdraft_allowed(account):
    entry = account_charge(
        account=account, amount="5", purpose=literal_text("Daily SMS"), allow_overdraft=True
    )
    assert entry.balance_after == Decimal("-5.00")


def test_purchase_sets_last_purchase_date(tenant):
    client = ClientFactory(tenant=tenant, last_purchase_at=None)
    account = make_account(client, balance="100")
    entry = account_charge(
        account=account,
        amount="30",
        purpose=literal_text("Package"),
        kind=EntryKind.SUBSCRIPTION_PURCHASE,
    )
    client.refresh_from_db()
    assert client.last_purchase_at == entry.created_at


def test_messaging_charge_is_not_a_purchase(tenant):
    client = ClientFactory(tenant=tenant, last_purchase_at=None)
    account = make_account(client, balance="100")
    account_charge(
        account=account, amount="3", purpose=literal_text("SMS"), kind=EntryKind.MESSAGING_CHARGE
    )
    client.refresh_from_db()
    assert client.last_purchase_at is None


def test_refund_and_reversal(account):
    top_up = account_top_up(account=account, amount="40")
    account_refund(account=account, amount="5", purpose=literal_text("Unused days"))
    reversal = entry_reverse(entry=top_up)
    assert reversal.kind == EntryKind.REVERSAL
    assert reversal.amount == Decimal("-40.00")
    assert reversal.reverses_id == top_up.pk
    assert reload(account).balance == Decimal("5.00")
    assert entry_reverse(entry=top_up).pk == reversal.pk  # retried: same entry
    with pytest.raises(LedgerError):
        entry_reverse(entry=top_up, idempotency_key="another")
    with pytest.raises(LedgerError):
        entry_reverse(entry=reversal)


@pytest.mark.parametrize(
    "value, expected",
    [("1.005", Decimal("1.01")), (Decimal("2.344"), Decimal("2.34")), (3, Decimal("3.00"))],
)
def test_to_money_rounds_half_up(value, expected):
    assert to_money(value) == expected


def test_to_money_refuses_floats_and_garbage():
    with pytest.raises(TypeError):
        to_money(1.5)
    with pytest.raises(AmountOutOfRange):
        to_money("abc")
    with pytest.raises(AmountOutOfRange):
        to_money(MONEY_LIMIT + 1)
    with pytest.raises(AmountOutOfRange):
        to_money("NaN")


@pytest.mark.parametrize("amount", ["0", "-5", "0.001"])
def test_top_up_must_be_positive(account, amount):
    with pytest.raises(AmountOutOfRange):
        account_top_up(account=account, amount=amount)
    assert entries(account) == []


def test_balance_may_not_leave_the_column(account):
    account_top_up(account=account, amount=MONEY_LIMIT)
    with pytest.raises(AmountOutOfRange):
        account_top_up(account=account, amount="1")
    assert reload(account).balance == MONEY_LIMIT


def test_entries_are_never_updated_or_deleted(account):
    entry = account_top_up(account=account, amount="1")
    entry.amount = Decimal("100")
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with scopes_disabled(), pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=5)
    with scopes_disabled(), pytest.raises(TypeError):
        LedgerEntry.objects.filter(pk=entry.pk).delete()


def test_entries_keep_time_order_even_if_dated(account):
    past = timezone.now() - timedelta(days=3)
    account_top_up(account=account, amount="1", at=past)
    with pytest.raises(LedgerError):
        account_top_up(account=account, amount="1", at=past - timedelta(seconds=1))


def test_credit_limit_change_is_logged_and_notified(
    tenant, owner, django_capture_on_commit_callbacks
):
    client = ClientFactory(tenant=tenant, email="c@example.com", accounting_email="acc@example.com")
    account = make_account(client)
    with django_capture_on_commit_callbacks(execute=True):
        change = account_set_credit_limit(
            account=account, credit_limit="250", actor=owner.user, notify=True
        )
    assert (change.old_limit, change.new_limit, change.operator) == (
        0,
        Decimal("250.00"),
        owner.user,
    )
    assert reload(account).credit_limit == Decimal("250.00")
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {"c@example.com", "acc@example.com"}
    assert "250.00" in mail.outbox[0].body
    with scopes_disabled():
        assert OutboxEmail.objects.get(key=f"credit:{change.pk}").status == "sent"


def test_credit_limit_without_notice_sends_nothing(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        account_set_credit_limit(account=account, credit_limit="10", notify=False)
    assert mail.outbox == []


def test_notice_is_sent_once(tenant, django_capture_on_commit_callbacks):
    from events.tasks import outbox_emails_send

    account = make_account(ClientFactory(tenant=tenant, email="c@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        change = account_set_credit_limit(account=account, credit_limit="10", notify=True)
    with scopes_disabled():
        email = OutboxEmail.objects.get(key=f"credit:{change.pk}")
    assert outbox_emails_send(tenant.pk, [email.pk]) == 0
    assert outbox_emails_send(10**9, [email.pk]) == 0  # gone: quietly
    assert len(mail.outbox) == 1


def test_negative_credit_limit_refused(account):
    with pytest.raises(AmountOutOfRange):
        account_set_credit_limit(account=account, credit_limit="-1")


def test_audit_ledger_passes_and_catches_mismatch(tenant, account, capsys):
    account_top_up(account=account, amount="10")
    account_charge(account=account, amount="3", purpose=literal_text("x"))
    call_command("audit_ledger")
    assert "Ledger OK" in capsys.readouterr().out
    with connection.cursor() as cursor:  # tamper behind the services' back
        cursor.execute(
            "UPDATE billing_account SET balance = balance + 1 WHERE id = %s", [account.pk]
        )
    with pytest.raises(CommandError, match="mismatch"):
        call_command("audit_ledger")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_account SET balance = balance - 1 WHERE id = %s", [account.pk]
        )
        cursor.execute(
            "UPDATE billing_ledgerentry SET balance_after = 99 WHERE account_id = %s "
            "AND amount < 0",
            [account.pk],
        )
    with pytest.raises(CommandError, match="1 broken chain"):
        call_command("audit_ledger", tenant=tenant.slug)

"""Billing's batch path: the same ledger as single postings, the funds rule per entry, keys
answered once, and the same statements for a chunk of ten as for a chunk of two hundred."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.models import Account, EntryKind, LedgerEntry
from billing.services import (
    IdempotencyConflict,
    InsufficientFunds,
    LedgerError,
    Posting,
    account_charge,
    account_refund,
    account_top_up,
    ledger_post_batch,
)
from core.stored_text import literal_text, stored_gettext
from events.models import Event
from tests.factories import ClientFactory, TenantFactory, make_account

pytestmark = pytest.mark.django_db

AT = timezone.now().replace(microsecond=0) - timedelta(hours=1)


def accounts_of(tenant, count, *, credit_limit=None):
    with scopes_disabled():
        return [
            make_account(ClientFactory(tenant=tenant), credit_limit=credit_limit)
            for _ in range(count)
        ]


# (account index, signed amount, kind, key, allow_overdraft): top-ups, charges, a refund, a
# charge that finds too little money, an overdraft allowed, one account used many times.
PLAN = [
    (0, "100.00", EntryKind.TOP_UP, "k1", False),
    (1, "20.00", EntryKind.TOP_UP, "k2", False),
    (0, "-30.50", EntryKind.ADJUSTMENT, "k3", False),
    (1, "-25.00", EntryKind.ADJUSTMENT, "k4", False),  # short of funds: refused
    (2, "-5.00", EntryKind.MESSAGING_CHARGE, "k5", True),  # overdraft allowed
    (0, "-69.50", EntryKind.SUBSCRIPTION_PURCHASE, "k6", False),  # down to exactly zero
    (2, "1.25", EntryKind.REFUND, "k7", False),
    (1, "-19.99", EntryKind.ADJUSTMENT, "k8", False),
]


def post_one_by_one(tenant, accounts):
    for index, amount, kind, key, overdraft in PLAN:
        account, amount = accounts[index], Decimal(amount)
        try:
            if kind == EntryKind.TOP_UP:
                account_top_up(account=account, amount=amount, idempotency_key=key, at=AT)
            elif kind == EntryKind.REFUND:
                account_refund(account=account, amount=amount, idempotency_key=key)
            else:
                account_charge(
                    account=account,
                    amount=-amount,
                    purpose=literal_text(f"Plan {key}"),
                    kind=kind,
                    idempotency_key=key,
                    allow_overdraft=overdraft,
                    at=AT,
                )
        except InsufficientFunds:
            pass


def post_as_batch(tenant, accounts):
    # The purposes the single postings write by default, as messages.
    purposes = {
        EntryKind.TOP_UP: stored_gettext("Account top-up"),
        EntryKind.REFUND: stored_gettext("Refund"),
    }
    postings = [
        Posting(
            account_id=accounts[index].pk,
            amount=Decimal(amount),
            kind=kind,
            purpose=purposes.get(kind, literal_text(f"Plan {key}")),
            idempotency_key=key,
            allow_overdraft=overdraft,
            at=None if kind == EntryKind.REFUND else AT,
            activity=kind in (EntryKind.TOP_UP, EntryKind.ADJUSTMENT, EntryKind.REFUND),
        )
        for index, amount, kind, key, overdraft in PLAN
    ]
    return ledger_post_batch(tenant=tenant, postings=postings, chunk_size=5)


def ledger_of(tenant, accounts):
    """Everything but the ids: the entries in chain order, the balances, the activity."""
    positions = {a.pk: i for i, a in enumerate(accounts)}
    with scopes_disabled():
        entries = [
            (positions[e.account_id], e.amount, e.kind, e.purpose, e.comment)
            + (e.balance_after, e.idempotency_key, e.operator_id, e.reverses_id)
            + ((e.created_at,) if e.kind != EntryKind.REFUND else ())
            for e in LedgerEntry.objects.filter(tenant=tenant).order_by(
                "account_id", "created_at", "id"
            )
        ]
        balances = [
            (positions[a.pk], a.balance, a.credit_limit)
            for a in Account.objects.filter(tenant=tenant).order_by("pk")
        ]
        lines = sorted(
            (verb, str(description).split(" (")[0])
            for verb, description in Event.objects.filter(tenant=tenant).values_list(
                "type", "description"
            )
        )
    return entries, balances, lines


def test_batch_and_single_postings_write_the_same_ledger():
    single_tenant, batch_tenant = TenantFactory(), TenantFactory()
    single, batch = accounts_of(single_tenant, 3), accounts_of(batch_tenant, 3)
    with scopes_disabled():
        post_one_by_one(single_tenant, single)
        results = post_as_batch(batch_tenant, batch)
    assert [type(r.error) for r in results].count(InsufficientFunds) == 1
    assert ledger_of(single_tenant, single) == ledger_of(batch_tenant, batch)
    entries, balances, _ = ledger_of(batch_tenant, batch)
    assert [b for _, b, _ in balances] == [Decimal("0.00"), Decimal("0.01"), Decimal("-3.75")]
    assert len(entries) == len(PLAN) - 1


def test_one_account_short_of_funds_is_refused_alone():
    tenant = TenantFactory()
    rich, poor, other = accounts_of(tenant, 3)
    with scopes_disabled():
        account_top_up(account=rich, amount="50")
        account_top_up(account=poor, amount="5")
        results = ledger_post_batch(
            tenant=tenant,
            postings=[
                Posting(rich.pk, Decimal("-10"), EntryKind.ADJUSTMENT, literal_text("a"), "r1"),
                Posting(poor.pk, Decimal("-4"), EntryKind.ADJUSTMENT, literal_text("b"), "p1"),
                Posting(
                    poor.pk, Decimal("-4"), EntryKind.ADJUSTMENT, literal_text("c"), "p2"
                ),  # 1 left
                Posting(other.pk, Decimal("7"), EntryKind.TOP_UP, literal_text("d"), "o1"),
            ],
        )
        assert [r.posted for r in results] == [True, True, False, True]
        assert isinstance(results[2].error, InsufficientFunds)
        assert "available 1.00" in results[2].error.messages[0]
        balances = dict(Account.objects.filter(tenant=tenant).values_list("pk", "balance"))
        assert not LedgerEntry.objects.filter(tenant=tenant, idempotency_key="p2").exists()
    assert [balances[a.pk] for a in (rich, poor, other)] == [
        Decimal("40.00"),
        Decimal("1.00"),
        Decimal("7.00"),
    ]


def test_a_key_posted_before_or_twice_in_a_chunk_returns_the_first_entry():
    tenant = TenantFactory()
    (account,) = accounts_of(tenant, 1)
    with scopes_disabled():
        first = account_top_up(account=account, amount="10", idempotency_key="again")
        results = ledger_post_batch(
            tenant=tenant,
            postings=[
                Posting(
                    account.pk,
                    Decimal("10"),
                    EntryKind.TOP_UP,
                    stored_gettext("Account top-up"),
                    "again",
                ),
                Posting(account.pk, Decimal("3"), EntryKind.TOP_UP, literal_text("x"), "twice"),
                Posting(account.pk, Decimal("3"), EntryKind.TOP_UP, literal_text("x"), "twice"),
                Posting(
                    account.pk, Decimal("4"), EntryKind.TOP_UP, literal_text("x"), "twice"
                ),  # other sum
                Posting(account.pk, Decimal("0"), EntryKind.TOP_UP, literal_text("x"), "zero"),
            ],
        )
        account.refresh_from_db()
    assert results[0].entry.pk == first.pk and results[0].entry.replayed
    assert results[1].posted and results[2].entry.pk == results[1].entry.pk
    assert results[2].entry.replayed
    assert isinstance(results[3].error, IdempotencyConflict)
    assert isinstance(results[4].error, LedgerError)
    assert account.balance == Decimal("13.00")


def test_statements_per_chunk_do_not_grow_with_its_size():
    """The same mix of postings (top-ups with activity lines, purchases, a refusal) in a chunk
    of 10 and in a chunk of 200 runs the same statements."""
    tenant = TenantFactory()
    accounts = accounts_of(tenant, 200)

    def postings(prefix, count):
        return [
            Posting(
                account_id=accounts[i].pk,
                amount=Decimal("5") if i % 3 else Decimal("-1000"),
                kind=EntryKind.TOP_UP if i % 3 else EntryKind.SUBSCRIPTION_PURCHASE,
                purpose=literal_text("Mix"),
                idempotency_key=f"{prefix}:{i}",
                allow_overdraft=i % 2 == 0,
                activity=i % 3 == 1,
            )
            for i in range(count)
        ]

    counted = []
    with scopes_disabled():
        for prefix, count in (("small", 10), ("large", 200)):
            with CaptureQueriesContext(connection) as queries:
                results = ledger_post_batch(
                    tenant=tenant, postings=postings(prefix, count), chunk_size=count
                )
            assert any(isinstance(r.error, InsufficientFunds) for r in results)
            counted.append(len(queries.captured_queries))
    assert counted[0] == counted[1] <= 10


def test_a_top_up_writes_its_entry_balance_and_event_in_one_statement():
    """Inside the account's lock a top-up runs one statement, which also writes its event
    with the new entry's id."""
    tenant = TenantFactory()
    (account,) = accounts_of(tenant, 1)
    with scopes_disabled():
        account_top_up(
            account=account, amount=Decimal("1.00")
        )  # the first: the account's entries begin
        with CaptureQueriesContext(connection) as queries:
            entry = account_top_up(account=account, amount=Decimal("2.50"), comment="Cash")
        event = Event.objects.filter(client_id=account.client_id).latest("pk")
    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    assert statements == ["SAVEPOINT", "SELECT", "WITH", "RELEASE"]  # the test's transaction
    assert event.payload == {
        "entry": entry.pk,
        "amount": "2.50",
        "balance_after": "3.50",
        "kind": EntryKind.TOP_UP,
    }
    assert (event.type, event.created_at) == ("ledger.entry_posted", entry.created_at)
    assert (event.object_type, event.object_id) == ("ledger_entry", entry.pk)
    assert (event.actor_kind, event.actor_label) == ("system", "system")
    assert str(event.description).endswith("balance 3.50 EUR (Cash)")


def test_a_single_posting_is_planned_once_per_connection():
    """A single posting's lock and write are prepared statements that PostgreSQL, after its
    first few runs, executes on one plan (a generic plan) instead of planning every posting
    again; a charge without an activity line runs the same write as a top-up with one (psycopg
    prepares it once for each set of parameter types, NULLs being untyped)."""
    tenant = TenantFactory()
    (account,) = accounts_of(tenant, 1)
    with scopes_disabled():
        for _ in range(10):
            account_top_up(account=account, amount=Decimal("2.00"))
            account_charge(
                account=account,
                amount=Decimal("1.00"),
                purpose=literal_text("Messages"),
                kind=EntryKind.MESSAGING_CHARGE,
            )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE %s OR statement LIKE %s",
            ["SELECT a.id, a.client_id, a.balance%", "WITH v AS (SELECT * FROM (VALUES%"],
        )
        plans = cursor.fetchall()
    assert sorted({statement.split()[0] for statement, _, _ in plans}) == ["SELECT", "WITH"]
    assert len({statement for statement, _, _ in plans}) == 2
    assert all(generic >= custom for _, generic, custom in plans), plans

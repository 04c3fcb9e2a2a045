"""Administrative and financial holds through the services: suspension and resumption, the
days given back (or not), independence of the two kinds, the stored status, the activity, the
e-mail, the access signal, and bad input."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.models import Account
from billing.services import account_charge, account_set_credit_limit, account_top_up
from clients.models import ClientStatus
from core.stored_text import literal_text
from events.models import Event
from events.outbox import OutboxEmail
from holds.models import ClientHold, FundsShortfall, HoldKind
from holds.services import client_place_hold, client_release_hold, financial_holds_run
from subscriptions.models import SubscriptionStatus, tenant_today
from tests.factories import UserFactory
from tests.holds.conftest import refresh

pytestmark = pytest.mark.django_db


def _account(client):
    with scopes_disabled():
        return Account.objects.select_related("tenant").get(client=client)


def test_administrative_hold_suspends_and_release_resumes(
    tenant, funded, subscribe, signals, django_capture_on_commit_callbacks
):
    client = funded(tenant, balance="10")
    today = tenant_today(tenant)
    sub = subscribe(client, today + timedelta(days=10))
    manager = UserFactory()
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        hold = client_place_hold(
            tenant=tenant, client=client, reason=literal_text("Abuse report"), actor=manager
        )
    assert refresh(client).status == ClientStatus.ADMINISTRATIVE_HOLD
    assert refresh(sub).status == SubscriptionStatus.SUSPENDED
    assert hold.set_by == manager and hold.in_force
    assert hold.set_by_label == manager.get_full_name() and hold.lifted_by_label == ""
    assert (client.pk, False, "hold_set") in signals
    assert len(mail.outbox) == 1 and "on hold" in mail.outbox[0].subject
    assert "Abuse report" in mail.outbox[0].body
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        client_release_hold(
            tenant=tenant, client=client, reason=literal_text("Resolved"), actor=manager
        )
    assert refresh(client).status == ClientStatus.ACTIVE
    assert refresh(sub).status == SubscriptionStatus.ACTIVE
    assert refresh(hold).lifted_at is not None and hold.lift_reason == literal_text("Resolved")
    assert hold.lifted_by_label == manager.get_full_name()
    assert (client.pk, True, "hold_released") in signals
    with scopes_disabled():
        verbs = list(
            Event.objects.filter(client_id=client.pk).order_by("id").values_list("type", "actor")
        )
    assert ("hold.placed", manager.pk) in verbs and ("hold.released", manager.pk) in verbs


@pytest.mark.parametrize("extend", [True, False])
def test_days_on_hold_given_back_unless_the_tenant_says_no(tenant, funded, subscribe, extend):
    tenant.suspended_days_extend = extend
    tenant.save()
    client = funded(tenant)
    end = tenant_today(tenant) + timedelta(days=10)
    sub = subscribe(client, end)
    with scopes_disabled():
        client_place_hold(tenant=tenant, client=client, reason=literal_text("Check"))
        refresh(sub)
        sub.suspended_at = timezone.now() - timedelta(days=4, hours=1)
        sub.save()
        client_release_hold(tenant=tenant, client=client, reason=literal_text("Done"))
    assert refresh(sub).end_date == end + timedelta(days=4 if extend else 0)


def test_holds_are_independent_admin_shown_over_financial(tenant, funded, subscribe):
    client = funded(tenant)
    sub = subscribe(client, tenant_today(tenant) + timedelta(days=5))
    with scopes_disabled():
        client_place_hold(
            tenant=tenant, client=client, kind=HoldKind.FINANCIAL, reason=literal_text("Debt")
        )
        assert refresh(client).status == ClientStatus.FINANCIAL_HOLD
        client_place_hold(tenant=tenant, client=client, reason=literal_text("Fraud check"))
        assert refresh(client).status == ClientStatus.ADMINISTRATIVE_HOLD
        client_release_hold(tenant=tenant, client=client, reason=literal_text("Cleared"))
        # The financial hold stays in force, and so does the suspension.
        assert refresh(client).status == ClientStatus.FINANCIAL_HOLD
        assert refresh(sub).status == SubscriptionStatus.SUSPENDED
        client_place_hold(tenant=tenant, client=client, reason=literal_text("Again"))
        client_release_hold(
            tenant=tenant, client=client, kind=HoldKind.FINANCIAL, reason=literal_text("Paid")
        )
        assert refresh(client).status == ClientStatus.ADMINISTRATIVE_HOLD
        assert refresh(sub).status == SubscriptionStatus.SUSPENDED
        assert ClientHold.objects.filter(client=client, lifted_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    "reason,message",
    [("", "Give a reason."), ("   ", "Give a reason."), ("x" * 501, "500 characters")],
)
def test_bad_reason_changes_nothing(tenant, funded, reason, message):
    client = funded(tenant)
    with scopes_disabled(), pytest.raises(ValidationError) as error:
        client_place_hold(tenant=tenant, client=client, reason=literal_text(reason))
    assert message in str(error.value)
    with scopes_disabled():
        assert not ClientHold.objects.exists()
    assert refresh(client).status == ClientStatus.ACTIVE


def test_second_hold_of_a_kind_and_release_without_hold_are_refused(tenant, funded):
    client = funded(tenant)
    with scopes_disabled():
        with pytest.raises(ValidationError, match="not on administrative hold"):
            client_release_hold(tenant=tenant, client=client, reason=literal_text("x"))
        client_place_hold(tenant=tenant, client=client, reason=literal_text("one"))
        with pytest.raises(ValidationError, match="already on administrative hold"):
            client_place_hold(tenant=tenant, client=client, reason=literal_text("two"))
        assert ClientHold.objects.count() == 1


def test_deleted_client_cannot_be_held(tenant, funded):
    client = funded(tenant, status=ClientStatus.DELETED)
    with scopes_disabled(), pytest.raises(ValidationError, match="deleted"):
        client_place_hold(tenant=tenant, client=client, reason=literal_text("x"))


# -- financial holds: grace period, zero, top-up ---------------------------------------------
def _go_negative(client, amount="10.00"):
    with scopes_disabled():
        return account_charge(
            account=_account(client),
            amount=Decimal(amount),
            purpose=literal_text("Usage"),
            allow_overdraft=True,
        )


def test_shortfall_tracked_from_the_posting_that_crossed_zero(tenant, funded):
    client = funded(tenant, balance="5")
    entry = _go_negative(client, "5.00")  # exactly zero: not negative
    with scopes_disabled():
        assert not FundsShortfall.objects.exists()
    entry = _go_negative(client, "0.01")
    with scopes_disabled():
        assert FundsShortfall.objects.get(client=client).since == entry.created_at
    _go_negative(client, "3.00")  # deeper: the start stays
    with scopes_disabled():
        assert FundsShortfall.objects.get(client=client).since == entry.created_at


def test_grace_period_ends_exactly(tenant, funded, subscribe):
    tenant.financial_hold_grace_days = 3
    tenant.save()
    client = funded(tenant)
    sub = subscribe(client, tenant_today(tenant) + timedelta(days=20))
    entry = _go_negative(client)
    with scopes_disabled():
        result = financial_holds_run(
            tenant=tenant, now=entry.created_at + timedelta(days=3) - timedelta(microseconds=1)
        )
        assert result["held"] == 0
        assert refresh(client).status == ClientStatus.ACTIVE
        result = financial_holds_run(tenant=tenant, now=entry.created_at + timedelta(days=3))
    assert result["held"] == 1
    assert refresh(client).status == ClientStatus.FINANCIAL_HOLD
    assert refresh(sub).status == SubscriptionStatus.SUSPENDED
    with scopes_disabled():
        hold = ClientHold.objects.get(client=client)
        line = Event.objects.filter(client_id=client.pk, type="hold.placed").get()
    assert hold.set_by_job == "financial holds" and hold.set_by is None
    assert "-10.00 EUR" in str(hold.reason)
    assert line.who == "system"


def test_credit_limit_counts_and_funds_exactly_zero_is_not_debt(tenant, funded):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    client = funded(tenant, credit="10")
    _go_negative(client, "10.00")  # balance -10, credit 10: available exactly 0
    with scopes_disabled():
        assert financial_holds_run(tenant=tenant)["held"] == 0
    _go_negative(client, "0.01")
    with scopes_disabled():
        assert financial_holds_run(tenant=tenant)["held"] == 1


def test_top_up_to_exactly_zero_lifts_the_hold_at_once(
    tenant, funded, subscribe, signals, django_capture_on_commit_callbacks
):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    client = funded(tenant)
    sub = subscribe(client, tenant_today(tenant) + timedelta(days=20))
    _go_negative(client, "10.00")
    with scopes_disabled():
        financial_holds_run(tenant=tenant)
        with django_capture_on_commit_callbacks(execute=True):
            account_top_up(account=_account(client), amount=Decimal("9.99"))
        assert refresh(client).status == ClientStatus.FINANCIAL_HOLD  # -0.01 still debt
        with django_capture_on_commit_callbacks(execute=True):
            account_top_up(account=_account(client), amount=Decimal("0.01"))
    assert refresh(client).status == ClientStatus.ACTIVE
    assert refresh(sub).status == SubscriptionStatus.ACTIVE
    assert (client.pk, True, "hold_released") in signals
    with scopes_disabled():
        assert not FundsShortfall.objects.exists()
        hold = ClientHold.objects.get(client=client)
    assert hold.lifted_by_job == "top-up" and "0.00 EUR" in str(hold.lift_reason)
    assert (hold.set_by_label, hold.lifted_by_label) == ("financial holds", "top-up")


def test_raising_the_credit_limit_lifts_the_hold(
    tenant, funded, django_capture_on_commit_callbacks
):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    client = funded(tenant)
    _go_negative(client, "10.00")
    with scopes_disabled():
        financial_holds_run(tenant=tenant)
        with django_capture_on_commit_callbacks(execute=True):
            account_set_credit_limit(account=_account(client), credit_limit=Decimal("10"))
    assert refresh(client).status == ClientStatus.ACTIVE


def test_top_up_leaves_an_administrative_hold(tenant, funded, django_capture_on_commit_callbacks):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    client = funded(tenant)
    _go_negative(client)
    with scopes_disabled():
        financial_holds_run(tenant=tenant)
        client_place_hold(tenant=tenant, client=client, reason=literal_text("Investigation"))
        with django_capture_on_commit_callbacks(execute=True):
            account_top_up(account=_account(client), amount=Decimal("50"))
    assert refresh(client).status == ClientStatus.ADMINISTRATIVE_HOLD


def test_job_releases_a_hold_whose_top_up_release_was_missed(tenant, funded):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    client = funded(tenant)
    _go_negative(client)
    with scopes_disabled():
        financial_holds_run(tenant=tenant)
        # on_commit callbacks are not run here: as if the worker died after the commit.
        account_top_up(account=_account(client), amount=Decimal("20"))
        assert refresh(client).status == ClientStatus.FINANCIAL_HOLD
        result = financial_holds_run(tenant=tenant)
    assert result["released"] == 1
    assert refresh(client).status == ClientStatus.ACTIVE


def test_job_tracks_accounts_negative_without_a_receiver(tenant, funded):
    """A bulk loader wrote a negative balance directly: the grace starts when the job sees it."""
    tenant.financial_hold_grace_days = 1
    tenant.save()
    client = funded(tenant)
    now = timezone.now()
    with scopes_disabled():
        Account.objects.filter(client=client).update(balance=Decimal("-5"))
        assert financial_holds_run(tenant=tenant, now=now)["newly_negative"] == 1
        assert FundsShortfall.objects.get(client=client).since == now
        assert financial_holds_run(tenant=tenant, now=now + timedelta(days=1))["held"] == 1


def test_financial_job_twice_gives_the_same_state(tenant, funded, subscribe):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    clients = [funded(tenant) for _ in range(3)]
    for c in clients:
        subscribe(c, tenant_today(tenant) + timedelta(days=9))
        _go_negative(c)
    with scopes_disabled():
        first = financial_holds_run(tenant=tenant)
        snapshot = (
            sorted(ClientHold.objects.values_list("client_id", "kind", "lifted_at")),
            Event.objects.count(),
            OutboxEmail.objects.count(),
        )
        second = financial_holds_run(tenant=tenant)
        assert snapshot == (
            sorted(ClientHold.objects.values_list("client_id", "kind", "lifted_at")),
            Event.objects.count(),
            OutboxEmail.objects.count(),
        )
    assert first["held"] == 3 and second["held"] == 0
    assert len(mail.outbox) == 0  # no callbacks were captured; see the e-mail test


def test_hold_email_sent_once(tenant, funded, django_capture_on_commit_callbacks):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    client = funded(tenant, email="pay@example.com")
    silent = funded(tenant, email="")
    _go_negative(client)
    _go_negative(silent)
    with scopes_disabled():
        with django_capture_on_commit_callbacks(execute=True):
            financial_holds_run(tenant=tenant)
        with django_capture_on_commit_callbacks(execute=True):
            financial_holds_run(tenant=tenant)
    assert [m.to for m in mail.outbox] == [["pay@example.com"]]
    assert "financial hold" in mail.outbox[0].body


def test_tenant_template_is_used(tenant, funded, django_capture_on_commit_callbacks):
    from holds.models import NotificationTemplate

    with scopes_disabled():
        NotificationTemplate.objects.create(
            tenant=tenant,
            kind="hold_set",
            subject="Hold for {{ client.name }}",
            body="{{ hold.reason }}!",
        )
    client = funded(tenant, name="Ada")
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        client_place_hold(tenant=tenant, client=client, reason=literal_text("Because"))
    assert mail.outbox[0].subject == "Hold for Ada"
    assert mail.outbox[0].body == "Because!"


def test_ledger_pays_no_extra_query_unless_funds_cross_zero(
    tenant, funded, django_assert_num_queries
):
    """billing announces each posting once; holds' receiver decides without a query when
    funds do not cross zero."""
    from billing.signals import FundsChange, funds_changed
    from holds import receivers

    client = funded(tenant, balance="100")
    account = _account(client)
    heard = []

    def listen(sender, *, changes, **details):
        heard.extend((change.before, change.after) for change in changes)

    with scopes_disabled():
        account_charge(account=account, amount=Decimal("1"), purpose=literal_text("warm-up"))
        funds_changed.connect(listen, dispatch_uid="test_listen")
        try:
            account_charge(account=account, amount=Decimal("1"), purpose=literal_text("x"))
        finally:
            funds_changed.disconnect(dispatch_uid="test_listen")
        assert heard == [(Decimal("99.00"), Decimal("98.00"))]
        with django_assert_num_queries(0):
            receivers.funds_changed(
                None,
                tenant=tenant,
                changes=[
                    FundsChange(
                        account_id=account.pk,
                        client_id=client.pk,
                        before=Decimal("10"),
                        after=Decimal("5"),
                        at=timezone.now(),
                    )
                ],
            )


def test_job_release_gives_the_days_back(tenant, funded, subscribe):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    client = funded(tenant)
    end = tenant_today(tenant) + timedelta(days=10)
    sub = subscribe(client, end)
    _go_negative(client)
    with scopes_disabled():
        financial_holds_run(tenant=tenant)
        refresh(sub)
        sub.suspended_at = timezone.now() - timedelta(days=2, hours=3)
        sub.save()
        account_top_up(account=_account(client), amount=Decimal("10"))
        assert financial_holds_run(tenant=tenant)["released"] == 1
    assert refresh(sub).status == SubscriptionStatus.ACTIVE
    assert sub.end_date == end + timedelta(days=2)
    with scopes_disabled():
        verbs = set(Event.objects.filter(client_id=client.pk).values_list("type", flat=True))
    assert {
        "hold.placed",
        "subscription.suspended",
        "hold.released",
        "subscription.resumed",
    } <= verbs


def test_job_repairs_a_status_out_of_line_with_the_holds(tenant, funded):
    from clients.models import Client

    stale = funded(tenant)
    held = funded(tenant)
    with scopes_disabled():
        client_place_hold(tenant=tenant, client=held, reason=literal_text("Check"))
        Client.objects.filter(pk=stale.pk).update(status=ClientStatus.FINANCIAL_HOLD)
        Client.objects.filter(pk=held.pk).update(status=ClientStatus.ACTIVE)
        assert financial_holds_run(tenant=tenant)["statuses_repaired"] == 2
    assert refresh(stale).status == ClientStatus.ACTIVE
    assert refresh(held).status == ClientStatus.ADMINISTRATIVE_HOLD


def test_owing_hold_emails_costs_no_query_per_email(tenant, funded):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from holds.models import NotificationKind
    from holds.services import notifications_create

    def owe(count, start):
        clients = [funded(tenant, email=f"c{start + i}@example.com") for i in range(count)]
        rows = [(c.pk, NotificationKind.EXPIRING, f"test:{c.pk}", None, None) for c in clients]
        with scopes_disabled(), transaction.atomic(), CaptureQueriesContext(connection) as ctx:
            assert len(notifications_create(tenant=tenant, rows=rows)) == count
        return len(ctx.captured_queries)

    assert owe(1, 0) == owe(4, 1)

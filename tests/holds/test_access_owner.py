"""The holds app owns access: `client_access_changed` is sent by it alone, once per change,
whatever made the change (a hold, a release, a purchase, a cancellation, a deletion)."""

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django_scopes import scopes_disabled

from billing.services import account_top_up
from clients.services import client_delete
from core.stored_text import literal_text
from holds.services import client_place_hold, client_release_hold
from subscriptions.models import tenant_today
from subscriptions.services import subscription_cancel, subscription_create
from tests.factories import PackageFactory, UserFactory

from .conftest import refresh

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def only_holds_tells(signals):
    yield
    assert set(signals.senders) <= {"holds"}, signals.senders


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run a change and what it owes after its commit, inside the tenant-free test scope."""

    def run(change, **kwargs):
        with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
            return change(**kwargs)

    return run


def test_a_hold_and_its_release_are_told_once_each(tenant, funded, subscribe, signals, commit):
    client = funded(tenant, balance="10")
    subscribe(client, tenant_today(tenant) + timedelta(days=10))
    manager = UserFactory()
    commit(
        client_place_hold, tenant=tenant, client=client, reason=literal_text("Abuse"), actor=manager
    )
    assert signals == [(client.pk, False, "hold_set")]
    commit(
        client_release_hold,
        tenant=tenant,
        client=client,
        reason=literal_text("Done"),
        actor=manager,
    )
    assert signals[1:] == [(client.pk, True, "hold_released")]


def test_a_purchase_and_a_cancellation_are_told_by_holds(tenant, funded, signals, commit):
    client = funded(tenant, balance="100")
    package = PackageFactory(tenant=tenant, price=Decimal("10.00"))
    subscription = commit(
        subscription_create,
        tenant=tenant,
        client=client,
        package=package,
        start_date=tenant_today(tenant),
        actor=None,
    )
    assert signals == [(client.pk, True, "subscription_created")] and set(signals.senders) == {
        "holds"
    }
    commit(subscription_cancel, subscription=subscription, actor=None, reason="Moving")
    assert signals[1:] == [(client.pk, False, "subscription_cancelled")] and set(
        signals.senders
    ) == {"holds"}


def test_a_purchase_for_a_client_on_hold_gives_no_access(tenant, funded, signals, commit):
    client = funded(tenant, balance="100")
    commit(
        client_place_hold, tenant=tenant, client=client, reason=literal_text("Abuse"), actor=None
    )
    signals.clear()
    signals.senders.clear()
    package = PackageFactory(tenant=tenant, price=Decimal("10.00"))
    commit(
        subscription_create,
        tenant=tenant,
        client=client,
        package=package,
        start_date=tenant_today(tenant),
        actor=None,
    )
    assert signals == []


def test_a_deletion_is_told_once(tenant, funded, signals, commit):
    client = funded(tenant)
    commit(client_delete, client=refresh(client), actor=None)
    assert signals == [(client.pk, False, "client_deleted")]


def test_a_top_up_that_lifts_a_financial_hold_is_told_once(
    tenant, funded, subscribe, signals, commit
):
    tenant.financial_hold_grace_days = 0
    tenant.save()
    client = funded(tenant, balance="-5")
    subscribe(client, tenant_today(tenant) + timedelta(days=10))
    commit(
        client_place_hold,
        tenant=tenant,
        client=client,
        reason=literal_text("Debt"),
        kind="financial",
    )
    signals.clear()
    signals.senders.clear()
    with scopes_disabled():
        account = client.account
    commit(account_top_up, account=account, amount=Decimal("10"))
    assert signals == [(client.pk, True, "hold_released")]


SENDS = re.compile(r"send_client_access_changed(_later)?\(|client_access_changed\.send\(")


def test_only_the_holds_app_sends_client_access_changed():
    senders = {
        path.relative_to(ROOT).parts[0]
        for path in ROOT.glob("*/**/*.py")
        if path.parts[len(ROOT.parts)] not in {"tests", ".venv", "bench"}
        and SENDS.search(path.read_text())
    }
    assert senders <= {"holds", "clients"}  # clients defines the senders and the fan-out task
    defining = [p for p in (ROOT / "clients").rglob("*.py") if SENDS.search(p.read_text())]
    assert {p.name for p in defining} <= {"signals.py"}

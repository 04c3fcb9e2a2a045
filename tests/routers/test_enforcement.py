"""Provisioning, enforcement of holds and expiry on the router, and reconciliation by the
poller, against simulated routers over TCP."""

import pytest
from celery.exceptions import Retry
from django_scopes import scopes_disabled

from clients.signals import client_access_changed
from routers.models import ConnectionStatus, PppoeAccount, SyncState, secret_comment
from routers.poller import poll_routers
from routers.services import pppoe_account_save, pppoe_account_set_access
from tests.factories import ClientFactory, PppoeAccountFactory, RouterFactory

pytestmark = pytest.mark.django_db


def fresh(account):
    with scopes_disabled():
        return PppoeAccount.objects.get(pk=account.pk)


def save_account(tenant, client, router, **kwargs):
    kwargs.setdefault("username", "alice")
    kwargs.setdefault("password", "Secret-pass-1")
    with scopes_disabled():
        return pppoe_account_save(tenant=tenant, client=client, router=router, **kwargs)


def test_new_account_is_provisioned_as_a_marked_secret(
    sim, router_for, tenant, django_capture_on_commit_callbacks
):
    router = router_for(sim)
    client = ClientFactory(tenant=tenant)
    with django_capture_on_commit_callbacks(execute=True):
        account = save_account(tenant, client, router, profile="10M")
    secret = sim.secret("alice")
    assert secret["comment"] == secret_comment(account.pk)
    assert secret["password"] == "Secret-pass-1"
    assert secret["profile"] == "10M" and secret["service"] == "pppoe"
    assert secret["disabled"] == "false"
    assert fresh(account).sync_state == SyncState.SYNCED


def test_changing_the_account_updates_the_same_secret(
    sim, router_for, tenant, django_capture_on_commit_callbacks
):
    router = router_for(sim)
    client = ClientFactory(tenant=tenant)
    with django_capture_on_commit_callbacks(execute=True):
        save_account(tenant, client, router)
    secret_id = sim.secret("alice")[".id"]
    with django_capture_on_commit_callbacks(execute=True):
        save_account(tenant, client, router, username="alice2", password=None, profile="50M")
    assert sim.secret("alice") is None
    renamed = sim.secret("alice2")
    assert renamed[".id"] == secret_id
    assert renamed["password"] == "Secret-pass-1"  # an empty password keeps the old one
    assert renamed["profile"] == "50M"


def test_hold_disables_the_secret_and_removes_the_session_release_enables(
    sim, router_for, tenant, django_capture_on_commit_callbacks
):
    router = router_for(sim)
    client = ClientFactory(tenant=tenant)
    with django_capture_on_commit_callbacks(execute=True):
        account = save_account(tenant, client, router)
    sim.connect_session("alice")
    sim.connect_session("bob")  # someone else's session stays
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        pppoe_account_set_access(account, False, "Financial hold")
    assert sim.secret("alice")["disabled"] == "true"
    assert sim.active_names() == {"bob"}
    account = fresh(account)
    assert not account.enabled and account.disabled_reason == "Financial hold"
    assert account.sync_state == SyncState.SYNCED
    assert account.status == ConnectionStatus.OFFLINE
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        pppoe_account_set_access(account, True, "")
    assert sim.secret("alice")["disabled"] == "false"
    assert fresh(account).enabled


def test_setting_the_same_access_twice_changes_nothing(
    sim, router_for, tenant, django_capture_on_commit_callbacks
):
    account = PppoeAccountFactory(tenant=tenant, router=router_for(sim), username="alice")
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        pppoe_account_set_access(account, True, "")
    assert callbacks == []
    assert sim.commands == []


def test_router_down_during_the_hold_is_brought_in_line_when_it_returns(
    sim, router_for, tenant, django_capture_on_commit_callbacks
):
    router = router_for(sim)
    client = ClientFactory(tenant=tenant)
    with django_capture_on_commit_callbacks(execute=True):
        account = save_account(tenant, client, router)
    sim.connect_session("alice")
    sim.drop_connections = True  # the router is unreachable: the task schedules a retry
    with (
        pytest.raises(Retry),
        scopes_disabled(),
        django_capture_on_commit_callbacks(execute=True),
    ):
        pppoe_account_set_access(account, False, "Administrative hold")
    assert sim.secret("alice")["disabled"] == "false"
    assert fresh(account).sync_state == SyncState.PENDING
    poll_routers()  # still down
    assert fresh(account).status == ConnectionStatus.UNKNOWN
    sim.drop_connections = False  # back
    poll_routers()
    assert sim.secret("alice")["disabled"] == "true"
    assert "alice" not in sim.active_names()
    account = fresh(account)
    assert account.sync_state == SyncState.SYNCED
    assert account.status == ConnectionStatus.OFFLINE


def test_router_that_lost_its_secrets_gets_them_back(sim, router_for, tenant):
    router = router_for(sim)
    account = PppoeAccountFactory(
        tenant=tenant, router=router, username="alice", enabled=False, password="pw-alice-1"
    )
    poll_routers()
    assert sim.secret("alice")["disabled"] == "true"
    sim.secrets.clear()  # e.g. restored from an old backup
    sim.stop()
    poll_routers()  # unreachable: a full audit is due when it returns
    sim.start(port=sim.port)
    poll_routers()
    secret = sim.secret("alice")
    assert secret["disabled"] == "true" and secret["password"] == "pw-alice-1"
    assert secret["comment"] == secret_comment(account.pk)


def test_nobody_on_hold_stays_connected_past_the_next_poll(sim, router_for, tenant):
    router = router_for(sim)
    account = PppoeAccountFactory(tenant=tenant, router=router, username="alice", enabled=False)
    poll_routers()
    sim.connect_session("alice")  # dialled in anyway (e.g. the secret was enabled by hand)
    sim.secrets[sim.secret("alice")[".id"]]["disabled"] = "false"
    poll_routers()
    assert "alice" not in sim.active_names()
    assert fresh(account).status == ConnectionStatus.OFFLINE


def test_only_clientdesk_secrets_are_touched(sim, router_for, tenant):
    sim.add_secret("manual", "x")  # made by hand, no mark
    sim.add_secret("alice", "theirs")  # a clash: same name, not ours
    sim.add_secret("ghost", "x", comment=secret_comment(999999))  # ours, account gone
    sim.connect_session("ghost")
    router = router_for(sim)
    account = PppoeAccountFactory(
        tenant=tenant, router=router, username="alice", sync_state="pending"
    )
    poll_routers()
    assert sim.secret("manual") is not None
    assert sim.secret("alice")["password"] == "theirs"
    assert sim.secret("ghost") is None and "ghost" not in sim.active_names()
    account = fresh(account)
    assert account.sync_state == SyncState.ERROR
    assert "not created by Clientdesk" in str(account.sync_error)


def test_moving_an_account_removes_the_old_secret(
    simulators, router_for, tenant, django_capture_on_commit_callbacks
):
    old_sim, new_sim = simulators(2)
    old_router, new_router = router_for(old_sim), router_for(new_sim)
    client = ClientFactory(tenant=tenant)
    with django_capture_on_commit_callbacks(execute=True):
        save_account(tenant, client, old_router)
    with django_capture_on_commit_callbacks(execute=True):
        save_account(tenant, client, new_router, password=None)
    assert new_sim.secret("alice") is not None
    poll_routers()
    assert old_sim.secret("alice") is None


def test_client_access_changed_signal_disables_and_enables(
    sim, router_for, tenant, django_capture_on_commit_callbacks
):
    router = router_for(sim)
    account = PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    poll_routers()
    sim.connect_session("alice")
    with django_capture_on_commit_callbacks(execute=True):
        client_access_changed.send(
            sender="holds", tenant=tenant, client=account.client, access=False, reason="hold_set"
        )
    assert sim.secret("alice")["disabled"] == "true"
    assert "alice" not in sim.active_names()
    assert fresh(account).disabled_reason == "hold_set"
    with django_capture_on_commit_callbacks(execute=True):
        client_access_changed.send(
            sender="holds",
            tenant=tenant,
            client=account.client,
            access=True,
            reason="hold_released",
        )
    assert sim.secret("alice")["disabled"] == "false"


def test_a_client_without_account_ignores_the_signal(tenant):
    client = ClientFactory(tenant=tenant)
    client_access_changed.send(
        sender="holds", tenant=tenant, client=client, access=False, reason="hold_set"
    )


def test_duplicate_username_on_the_same_router_is_refused(sim, router_for, tenant):
    from django.core.exceptions import ValidationError

    router = router_for(sim)
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    with pytest.raises(ValidationError) as error:
        save_account(tenant, ClientFactory(tenant=tenant), router)
    assert "already used" in str(error.value)
    other = RouterFactory(tenant=tenant)
    save_account(tenant, ClientFactory(tenant=tenant), other)  # another router: fine

"""The Celery entry points and the beat schedule; the demo's routers seeder."""

import pytest
from cryptography.fernet import Fernet
from django_scopes import scopes_disabled

from config.celery import app as celery_app
from core import crypto
from routers.models import ConnectionStatus, PollErrorKind, PppoeAccount, Router
from routers.services import pppoe_account_save
from routers.tasks import pppoe_account_sync, routers_poll
from tests.factories import ClientFactory, PppoeAccountFactory

pytestmark = pytest.mark.django_db


def test_beat_polls_every_minute():
    entry = celery_app.conf.beat_schedule["routers-poll"]
    assert entry["task"] == "routers.tasks.routers_poll"
    assert entry["schedule"] == 60.0
    assert entry["task"] in celery_app.tasks


def test_poll_task_reports(sim, router_for, tenant):
    router = router_for(sim)
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    sim.connect_session("alice")
    result = routers_poll.delay().get()
    assert result == {"polled": 1, "reachable": 1, "skipped": []}


def test_sync_task_returns_quietly_when_the_account_or_tenant_is_gone(tenant):
    assert pppoe_account_sync.delay(123456, tenant_id=tenant.pk).get() is False
    assert pppoe_account_sync.delay(1, tenant_id=987654).get() is False


def test_unreadable_router_password_is_reported_not_raised(sim, router_for, tenant, monkeypatch):
    router = router_for(sim)
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    monkeypatch.setenv(crypto.ENV_NAME, Fernet.generate_key().decode())  # the key changed
    routers_poll.delay().get()
    with scopes_disabled():
        router = Router.objects.get(pk=router.pk)
        assert router.last_error_kind == PollErrorKind.CONFIG
        assert "ROUTER_SECRET_KEY" in str(router.last_error)
        assert PppoeAccount.objects.get().status == ConnectionStatus.UNKNOWN


def test_demo_seeder_creates_routers_and_accounts(tenant):
    from routers import demo

    clients = [ClientFactory(tenant=tenant) for _ in range(12)]
    context = {"tenants": {"isp": tenant}, "clients": {"isp": clients}}
    with scopes_disabled():
        demo.seed(context, lambda *a: None)
        routers = Router.objects.filter(tenant=tenant)
        assert routers.count() == 4
        assert PppoeAccount.objects.filter(tenant=tenant).count() == 12
        assert len({r.password for r in routers}) == 1  # this demo's own router password
        down = routers.get(name=demo.UNREACHABLE_ROUTER)
        assert PppoeAccount.objects.filter(router=down).exists()


def test_sync_task_run_twice_gives_the_same_state(sim, router_for, tenant):
    router = router_for(sim)
    with scopes_disabled():
        account = pppoe_account_save(
            tenant=tenant,
            client=ClientFactory(tenant=tenant),
            router=router,
            username="alice",
            password="Secret-pass-1",
        )
    assert pppoe_account_sync.delay(account.pk, tenant_id=tenant.pk).get() is True
    secret = dict(sim.secret("alice"))
    assert pppoe_account_sync.delay(account.pk, tenant_id=tenant.pk).get() is False
    assert sim.secret("alice") == secret
    with scopes_disabled():
        assert PppoeAccount.objects.get(pk=account.pk).sync_state == "synced"

"""The events of operators, API tokens, the two-factor requirement, packages, routers, the
poller (reachability and PPPoE sessions) and finished imports: each written where the change
happens, with the payload docs/events.md shows, and every type documented there."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from core.stored_text import literal_text
from events.models import ActorKind, Event
from events.types import EVENT_TYPES
from routers.models import ConnectionStatus, PollErrorKind, Router
from routers.poller import RouterOutcome, save_outcome
from routers.routeros import RouterError
from routers.services import router_create, router_update
from subscriptions.services import (
    package_create,
    package_reactivate,
    package_retire,
    package_update,
)
from tenancy.roles import Role
from tenancy.services import (
    api_token_create,
    api_token_revoke,
    operator_create,
    operator_update,
)
from tests.factories import MembershipFactory, PppoeAccountFactory, RouterFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def events(tenant, prefix):
    with scopes_disabled():
        return list(
            Event.objects.filter(tenant=tenant, type__startswith=prefix).order_by(
                "created_at", "pk"
            )
        )


def test_every_type_is_documented_with_an_example():
    documented = set(
        re.findall(r"^\| `([a-z_]+\.[a-z_]+)`", (ROOT / "docs/events.md").read_text(), re.M)
    )
    assert set(EVENT_TYPES) <= documented


def test_operator_invited_role_changed_deactivated_reactivated(tenant, owner):
    with scopes_disabled():
        membership = operator_create(
            tenant=tenant,
            actor=owner.user,
            username="olga",
            email="olga@example.com",
            first_name="Olga",
            last_name="",
            role=Role.VIEWER,
            password="A-long-pass-phrase-91",
        )
        token = api_token_create(tenant=tenant, actor=membership.user, name="Hers", scope="viewer")
        fields = {"email": "olga@example.com", "first_name": "Olga", "last_name": ""}
        operator_update(
            membership=membership, actor=owner.user, role=Role.MANAGER, is_active=True, **fields
        )
        operator_update(
            membership=membership, actor=owner.user, role=Role.MANAGER, is_active=False, **fields
        )
        operator_update(
            membership=membership, actor=owner.user, role=Role.MANAGER, is_active=True, **fields
        )
    recorded = events(tenant, "operator.")
    assert [e.type for e in recorded] == [
        "operator.invited",
        "operator.role_changed",
        "operator.deactivated",
        "operator.reactivated",
    ]
    assert {e.actor_id for e in recorded} == {owner.user.pk}
    assert {(e.object_type, e.object_id) for e in recorded} == {("operator", membership.pk)}
    assert recorded[0].payload == {
        "user": membership.user_id,
        "login": membership.user.username,
        "role": "viewer",
    }
    assert recorded[1].payload["old"] == "viewer" and recorded[1].payload["new"] == "manager"
    assert recorded[2].payload["tokens_revoked"] == 1
    assert token.token.pk  # revoked with the deactivation, counted above


def test_an_unchanged_operator_records_nothing(tenant, owner):
    other = MembershipFactory(tenant=tenant, role=Role.VIEWER)
    user = other.user
    with scopes_disabled():
        operator_update(
            membership=other,
            actor=owner.user,
            role=Role.VIEWER,
            is_active=True,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
        )
    assert events(tenant, "operator.") == []


def test_api_token_created_and_revoked_once(tenant, owner):
    with scopes_disabled():
        issued = api_token_create(
            tenant=tenant, actor=owner.user, name="Billing sync", scope="viewer"
        )
        api_token_revoke(token=issued.token, actor=owner.user)
        api_token_revoke(token=issued.token, actor=owner.user)  # already revoked: no event
    created, revoked = events(tenant, "api_token.")
    assert (created.type, revoked.type) == ("api_token.created", "api_token.revoked")
    assert created.payload["scope"] == "viewer" and created.payload["name"] == "Billing sync"
    assert issued.secret not in str(created.payload)
    assert created.object_id == revoked.object_id == issued.token.pk


def test_package_created_updated_retired_reactivated(tenant, owner):
    data = {
        "name": "Fiber 500",
        "price": Decimal("49.90"),
        "period_count": 1,
        "period_unit": "months",
        "description": "",
        "rate_limit": "",
        "pppoe_profile": "",
    }
    with scopes_disabled():
        package = package_create(tenant=tenant, actor=owner.user, **data)
        package_update(package=package, actor=owner.user, **{**data, "price": Decimal("55.00")})
        package_update(package=package, actor=owner.user, **{**data, "price": Decimal("55.00")})
        package_retire(package=package, actor=owner.user)
        package_reactivate(package=package, actor=owner.user)
    recorded = events(tenant, "package.")
    assert [e.type for e in recorded] == ["package.created"] + ["package.updated"] * 3
    assert recorded[1].payload["changes"] == {"price": {"old": "49.90", "new": "55.00"}}
    assert recorded[2].payload["changes"] == {"is_active": {"old": "True", "new": "False"}}
    assert recorded[0].object_type == "package" and recorded[0].client_id is None


def test_router_created_and_updated_without_its_password(tenant, owner):
    fields = {"name": "Core", "host": "127.0.0.1", "port": 8728, "username": "admin"}
    with scopes_disabled():
        router = router_create(tenant=tenant, actor=owner.user, password="S3cret-pass", **fields)
        router_update(router=router, actor=owner.user, password="N3w-secret", name="Core 2")
    created, updated = events(tenant, "router.")
    assert created.type == "router.created" and created.payload["host"] == "127.0.0.1"
    assert updated.payload["fields"] == ["name", "password"]
    assert updated.payload["changes"] == {"name": {"old": "Core", "new": "Core 2"}}
    assert "N3w-secret" not in str(updated.payload) and "S3cret" not in str(created.payload)


def _outcome(router, **fields):
    return RouterOutcome(router_id=router.pk, tenant_id=router.tenant_id, **fields)


def test_poller_records_reachability_changes_only(tenant):
    router = RouterFactory(tenant=tenant, name="Edge")
    down = RouterError(PollErrorKind.NETWORK, literal_text("Connection refused"))
    now = timezone.now()
    with scopes_disabled():
        save_outcome(_outcome(router, ok=True), now)  # first poll, reachable: no change
        save_outcome(_outcome(router, ok=False, error=down), now)
        save_outcome(_outcome(router, ok=False, error=down), now)  # still down: nothing more
        save_outcome(_outcome(router, ok=True), now)
        assert Router.objects.get(pk=router.pk).is_reachable is True
    recorded = events(tenant, "router.")
    assert [e.type for e in recorded] == ["router.unreachable", "router.reachable"]
    assert recorded[0].payload == {
        "router": router.pk,
        "name": "Edge",
        "error": "Connection refused",
        "kind": PollErrorKind.NETWORK,
    }
    assert {e.actor_kind for e in recorded} == {ActorKind.JOB}


def test_poller_records_sessions_that_start_and_end(tenant):
    router = RouterFactory(tenant=tenant)
    ada = PppoeAccountFactory(tenant=tenant, router=router, username="ada")
    PppoeAccountFactory(tenant=tenant, router=router, username="bob")
    session = {"name": "ada", "address": "127.0.0.2", "caller-id": "AA:BB"}
    now = timezone.now()
    with scopes_disabled():
        save_outcome(_outcome(router, ok=True, active=[session]), now)
        save_outcome(_outcome(router, ok=True, active=[session]), now)  # still online
        save_outcome(_outcome(router, ok=True, active=[]), now)
        assert ada.__class__.objects.get(pk=ada.pk).status == ConnectionStatus.OFFLINE
    started, ended = events(tenant, "pppoe.")
    assert (started.type, ended.type) == ("pppoe.session_started", "pppoe.session_ended")
    assert started.client_id == ada.client_id == ended.client_id
    assert started.payload == {
        "router": router.pk,
        "username": "ada",
        "address": "127.0.0.2",
        "caller_id": "AA:BB",
    }
    assert ended.payload == {"router": router.pk, "username": "ada"}

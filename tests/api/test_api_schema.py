"""The API against its own OpenAPI schema, over real HTTP: Schemathesis generates requests for
every operation (a few examples each, valid ones and ones with bad values, with a tenant's
token): no 500, and every answer, refusals included, keeps to the schema. Then the schema's
operations are walked with another tenant's token (404 and nothing changed) and with every
role and scope (403 exactly where the operation's `x-capability` is not granted)."""

import re
from decimal import Decimal

import pytest
import schemathesis
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from clients.models import Client
from core.stored_text import literal_text
from events.models import Event
from events.webhook_models import WebhookDelivery
from events.webhooks import webhook_endpoint_create
from exports.models import ExportJob
from holds.services import client_place_hold
from tenancy.models import ApiTokenScope
from tenancy.roles import scope_allows
from tests.factories import (
    ClientFactory,
    PackageFactory,
    PppoeAccountFactory,
    SenderIdFactory,
    SubscriptionFactory,
)
from tests.security.walker import changed_tables, snapshot, snapshot_query

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = settings(
    max_examples=8,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
# Rows a request may write whoever it comes from: the token's last use.
NOT_COMPARED = {"tenancy_apitoken"}


def api_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/")


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def examples(operation, test, count=None, mode=GenerationMode.POSITIVE):
    """Run `test(case)` on generated requests of `operation` (valid ones, or with bad
    values)."""
    run = given(case=operation.as_strategy(generation_mode=mode))(lambda case: test(case))
    chosen = EXAMPLES if count is None else settings(EXAMPLES, max_examples=count)
    chosen(run)()


def test_every_operation_keeps_to_the_schema(
    live_server, api_tenant, issue_token, path_objects, http_session
):
    session = http_session
    headers = {"Authorization": f"Bearer {issue_token(api_tenant, 'owner')}"}
    schema = api_schema(live_server)
    found = operations(schema)
    assert len(found) >= 8

    def check(case):
        response = case.call(base_url=live_server.url, session=session, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    for operation in found:
        examples(operation, check)
        examples(operation, check, count=5, mode=GenerationMode.NEGATIVE)


@pytest.fixture
def two_tenants(api_tenant, api_other_tenant, api_client_of):
    """Tenant A's client #4, which tenant B (clients #1 and #2) does not have."""
    mine = [api_client_of(api_tenant, name=f"Mine {n}") for n in range(4)][-1]
    for n in range(2):
        api_client_of(api_other_tenant, name=f"Theirs {n}")
    return mine


@pytest.fixture
def path_objects(two_tenants, api_tenant, api_other_tenant):
    """Tenant A's object for each path parameter of the schema: client #4, a package and a
    live subscription of it, a hold in force on another client, a PPPoE account on a router,
    a pending sender ID, an export job, and a webhook endpoint with a delivery. Tenant B has
    objects of each kind too, with other ids. A new kind of path parameter fails the walks
    until it is given an object here."""
    with scopes_disabled():
        bought = PackageFactory(tenant=api_tenant, name="Walked")
        live = SubscriptionFactory(tenant=api_tenant, client=two_tenants, package=bought)
        theirs = Client.objects.filter(tenant=api_other_tenant).first()
        SubscriptionFactory(
            tenant=api_other_tenant, client=theirs, package=PackageFactory(tenant=api_other_tenant)
        )
        PppoeAccountFactory(tenant=api_other_tenant, client=theirs)
        SenderIdFactory(client=theirs)
        ExportJob.objects.create(tenant=api_other_tenant, kind="billing.ledger")
        held = ClientFactory(tenant=api_tenant, name="Held")
        client_place_hold(tenant=api_tenant, client=held, reason=literal_text("Walked"))
        account = PppoeAccountFactory(tenant=api_tenant, client=two_tenants)
        sender = SenderIdFactory(client=two_tenants, status="pending")
        job = ExportJob.objects.create(tenant=api_tenant, kind="billing.ledger", title="A's")
        webhook_delivery_of(api_other_tenant)
        delivery = webhook_delivery_of(api_tenant)
    return {
        "number": two_tenants.number,
        "package_id": bought.pk,
        "subscription_id": live.pk,
        "router_id": account.router_id,
        "account_id": account.pk,
        "sender_id": sender.pk,
        "job_id": job.pk,
        "endpoint_id": delivery.endpoint_id,
        "delivery_id": delivery.pk,
    }


def webhook_delivery_of(tenant) -> WebhookDelivery:
    """A delivered event to an endpoint of `tenant` (of a type the walks do not write, so
    that they send nothing to it)."""
    endpoint = webhook_endpoint_create(
        tenant=tenant,
        actor=None,
        url="http://127.0.0.1:9/walked",
        secret="walked-secret-0123456789",
        event_types=["webhook_endpoint.disabled"],
    )
    event = Event.objects.create(tenant=tenant, type="client.updated", description="Walked")
    return WebhookDelivery.objects.create(
        tenant=tenant, endpoint=endpoint, event=event, object_key="client:1", status="delivered"
    )


def path_parameters(path: str, objects: dict) -> dict:
    """The path's parameters, each naming tenant A's object; a parameter without one fails
    here, until `path_objects` gives it one."""
    names = re.findall(r"{(\w+)}", path)
    missing = [name for name in names if name not in objects]
    assert not missing, f"path_objects has no object for {missing} of {path}"
    return {name: objects[name] for name in names}


def test_another_tenants_objects_are_404_and_unchanged(
    live_server, two_tenants, path_objects, api_other_tenant, issue_token, http_session
):
    session = http_session
    mine = two_tenants
    headers = {"Authorization": f"Bearer {issue_token(api_other_tenant, 'owner')}"}
    query = snapshot_query()
    before = snapshot(query)
    walked = 0
    for operation in operations(api_schema(live_server)):
        objects = path_parameters(operation.path, path_objects)
        if not objects:
            continue
        walked += 1

        def foreign(case, objects=objects):
            case.path_parameters = {**(case.path_parameters or {}), **objects}
            response = case.call(base_url=live_server.url, session=session, headers=headers)
            assert response.status_code == 404, (case.method, case.path, response.text)

        examples(operation, foreign, count=4)
    assert walked >= 20
    assert set(changed_tables(before, snapshot(query))) <= NOT_COMPARED
    listed = session.get(f"{live_server.url}/api/v1/clients/", headers=headers).json()
    assert mine.name not in {item["name"] for item in listed["items"]}


def test_roles_and_scopes_on_every_operation(
    live_server, path_objects, api_tenant, issue_token, http_session
):
    session = http_session
    tokens = {scope: issue_token(api_tenant, scope) for scope in ApiTokenScope.values}
    for operation in operations(api_schema(live_server)):
        capability = operation.definition.raw["x-capability"]

        def as_every_scope(case, capability=capability):
            case.path_parameters = {
                **(case.path_parameters or {}),
                **path_parameters(case.path, path_objects),
            }
            for scope, secret in tokens.items():
                response = case.call(
                    base_url=live_server.url,
                    session=session,
                    headers={"Authorization": f"Bearer {secret}"},
                )
                refused = response.status_code == 403
                assert refused != scope_allows(scope, capability), (
                    scope,
                    case.method,
                    case.path,
                    response.status_code,
                )

        with scopes_disabled():
            examples(operation, as_every_scope, count=1)


# A valid body for each operation that takes an Idempotency-Key (by operationId), and another
# one; a new operation fails the test below until it is given them here. `package_id` is
# replaced by tenant A's package on sale.
IDEMPOTENT_BODIES = {
    "clients_api_client_add": ({"name": "Retried Ltd"}, {"name": "Other Ltd"}),
    "billing_api_client_top_up": ({"amount": "10.00"}, {"amount": "11.00"}),
    "billing_api_client_set_credit": ({"credit_limit": "30"}, {"credit_limit": "31"}),
    "subscriptions_api_subscription_purchase": (
        {"package": "package_id"},
        {"package": "package_id", "auto_renew": True},
    ),
    "subscriptions_api_subscription_cancel": ({"reason": "Retried"}, {"reason": "Other"}),
    "holds_api_client_hold_place": ({"reason": "Retried"}, {"reason": "Other"}),
    "billing_api_client_ledger_export": ({}, {"sort": "created_at"}),
    "messaging_api_sender_id_add": ({"name": "Retried"}, {"name": "Other"}),
    "subscriptions_api_package_add": (
        {"name": "Retried package", "price": "1.00"},
        {"name": "Other package", "price": "1.00"},
    ),
    "events_api_webhook_endpoint_add": (
        {"url": "http://127.0.0.1:9/retried", "event_types": ["client.created"]},
        {"url": "http://127.0.0.1:9/other", "event_types": ["client.created"]},
    ),
    # A redelivery takes no body: the same key with one is another request.
    "events_api_webhook_delivery_redeliver": ({}, {"again": True}),
    "messaging_api_client_statistics_export": (
        {"start": "2026-01-01", "end": "2026-01-31"},
        {"start": "2026-01-01", "end": "2026-01-30"},
    ),
}


def test_every_idempotent_operation_replays_its_first_answer(
    live_server, path_objects, api_tenant, issue_token, http_session
):
    headers = {"Authorization": f"Bearer {issue_token(api_tenant, 'owner')}"}
    idempotent = [
        op for op in operations(api_schema(live_server)) if op.definition.raw.get("x-idempotent")
    ]
    assert sorted(op.definition.raw["operationId"] for op in idempotent) == sorted(
        IDEMPOTENT_BODIES
    )
    with scopes_disabled():
        on_sale = PackageFactory(tenant=api_tenant, name="Retried", price=Decimal("0.00"))
    for operation in idempotent:
        body, other = (
            {name: on_sale.pk if value == "package_id" else value for name, value in given.items()}
            for given in IDEMPOTENT_BODIES[operation.definition.raw["operationId"]]
        )
        url = live_server.url + operation.path.format(
            **path_parameters(operation.path, path_objects)
        )
        keyed = {**headers, "Idempotency-Key": f"retry-{operation.path}"}
        first = http_session.post(url, json=body, headers=keyed)
        again = http_session.post(url, json=body, headers=keyed)
        assert first.status_code < 300, first.text
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        refused = http_session.post(url, json=other, headers=keyed)
        assert refused.status_code == 422, refused.text

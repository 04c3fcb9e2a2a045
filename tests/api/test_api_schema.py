"""The API against its own OpenAPI schema, over real HTTP: Schemathesis generates requests for
every operation (a few examples each, valid ones and ones with bad values, with a tenant's
token): no 500, and every answer, refusals included, keeps to the schema. Then the schema's
operations are walked with another tenant's token (404 and nothing changed) and with every
role and scope (403 exactly where the operation's `x-capability` is not granted)."""

import re

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
from exports.models import ExportJob
from tenancy.models import ApiTokenScope
from tenancy.roles import scope_allows
from tests.factories import PppoeAccountFactory, SenderIdFactory
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
    live_server, api_tenant, issue_token, api_client_of, http_session
):
    session = http_session
    for _ in range(3):
        api_client_of(api_tenant)
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
def objects_of_a(two_tenants, api_tenant, api_other_tenant):
    """The path parameters naming one of tenant A's objects of each kind the API has (tenant B
    has objects of each kind too, with other ids). A new kind of path parameter fails the walks
    until it is given an object here."""
    with scopes_disabled():
        theirs = Client.objects.filter(tenant=api_other_tenant).first()
        PppoeAccountFactory(tenant=api_other_tenant, client=theirs)
        SenderIdFactory(client=theirs)
        ExportJob.objects.create(tenant=api_other_tenant, kind="billing.ledger")
        account = PppoeAccountFactory(tenant=api_tenant, client=two_tenants)
        sender = SenderIdFactory(client=two_tenants, status="pending")
        job = ExportJob.objects.create(tenant=api_tenant, kind="billing.ledger", title="A's")
    return {
        "number": two_tenants.number,
        "router_id": account.router_id,
        "account_id": account.pk,
        "sender_id": sender.pk,
        "job_id": job.pk,
    }


def path_names(path: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", path))


def naming(case, objects: dict) -> None:
    """Point the case's path parameters at the objects named by `objects`."""
    names = path_names(case.path)
    assert names <= set(objects), f"No object for {names - set(objects)} in {case.path}"
    case.path_parameters = {
        **(case.path_parameters or {}),
        **{name: objects[name] for name in names},
    }


def test_another_tenants_objects_are_404_and_unchanged(
    live_server, two_tenants, objects_of_a, api_other_tenant, issue_token, http_session
):
    session = http_session
    mine = two_tenants
    headers = {"Authorization": f"Bearer {issue_token(api_other_tenant, 'owner')}"}
    query = snapshot_query()
    before = snapshot(query)
    walked = 0
    for operation in operations(api_schema(live_server)):
        if not path_names(operation.path):
            continue
        walked += 1

        def foreign(case):
            naming(case, objects_of_a)
            response = case.call(base_url=live_server.url, session=session, headers=headers)
            assert response.status_code == 404, (case.method, case.path, response.text)

        examples(operation, foreign, count=4)
    assert walked >= 14
    assert set(changed_tables(before, snapshot(query))) <= NOT_COMPARED
    listed = session.get(f"{live_server.url}/api/v1/clients/", headers=headers).json()
    assert mine.name not in {item["name"] for item in listed["items"]}


def test_roles_and_scopes_on_every_operation(
    live_server, objects_of_a, api_tenant, issue_token, http_session
):
    session = http_session
    tokens = {scope: issue_token(api_tenant, scope) for scope in ApiTokenScope.values}
    for operation in operations(api_schema(live_server)):
        capability = operation.definition.raw["x-capability"]

        def as_every_scope(case, capability=capability):
            naming(case, objects_of_a)
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


# A valid body for each operation that takes an Idempotency-Key (by operationId); a new one
# fails the test below until it is given one here.
IDEMPOTENT_BODIES = {
    "clients_api_client_add": ({"name": "Retried Ltd"}, {"name": "Other Ltd"}),
    "billing_api_client_top_up": ({"amount": "10.00"}, {"amount": "11.00"}),
    "billing_api_client_set_credit": ({"credit_limit": "30"}, {"credit_limit": "31"}),
    "billing_api_client_ledger_export": ({}, {"sort": "created_at"}),
    "messaging_api_sender_id_add": ({"name": "Retried"}, {"name": "Other"}),
    "messaging_api_client_statistics_export": (
        {"start": "2026-01-01", "end": "2026-01-31"},
        {"start": "2026-01-01", "end": "2026-01-30"},
    ),
}


def test_every_idempotent_operation_replays_its_first_answer(
    live_server, two_tenants, api_tenant, issue_token, http_session
):
    headers = {"Authorization": f"Bearer {issue_token(api_tenant, 'owner')}"}
    idempotent = [
        op for op in operations(api_schema(live_server)) if op.definition.raw.get("x-idempotent")
    ]
    assert sorted(op.definition.raw["operationId"] for op in idempotent) == sorted(
        IDEMPOTENT_BODIES
    )
    for operation in idempotent:
        body, other = IDEMPOTENT_BODIES[operation.definition.raw["operationId"]]
        url = live_server.url + operation.path.replace("{number}", str(two_tenants.number))
        keyed = {**headers, "Idempotency-Key": f"retry-{operation.path}"}
        first = http_session.post(url, json=body, headers=keyed)
        again = http_session.post(url, json=body, headers=keyed)
        assert first.status_code < 300, first.text
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        refused = http_session.post(url, json=other, headers=keyed)
        assert refused.status_code == 422, refused.text

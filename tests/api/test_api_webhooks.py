"""Webhook endpoints over the API: owners only, through the Webhooks page's form and services.
The secret is answered once, on the add, and kept encrypted even in the answer kept for
retries; the outbound address policy refuses an address at `url`; bad input is a 422 naming
the field and changes nothing; deliveries are listed newest first and redelivered."""

import json

import pytest
from django_scopes import scope, scopes_disabled

from events.models import Event
from events.webhook_models import WebhookDelivery, WebhookEndpoint
from events.webhooks import webhook_endpoint_create
from tenancy.models import ApiIdempotencyRecord
from tenancy.services import api_token_create

pytestmark = pytest.mark.django_db

SECRET = "s3cret-signing-key-0123456789"
GOOD = {"url": "http://127.0.0.1:9/hook", "event_types": ["client.updated", "hold.placed"]}


@pytest.fixture
def token(tenant):
    def issue(scope_name="owner", of=None):
        with scopes_disabled():
            secret = api_token_create(
                tenant=of or tenant, actor=None, name=scope_name, scope=scope_name
            ).secret
        return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}

    return issue


@pytest.fixture
def owner_api(client, token):
    headers = token()

    def call(method, path, body=None, **extra):
        kwargs = {**headers, **extra}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(f"/api/v1/webhooks/{path}", **kwargs)

    return call


def make_endpoint(tenant, **kwargs):
    return webhook_endpoint_create(
        tenant=tenant,
        actor=None,
        url=kwargs.pop("url", "http://127.0.0.1:9/hook"),
        secret=SECRET,
        event_types=["client.updated"],
        **kwargs,
    )


def make_delivery(endpoint, number=1, status="delivered"):
    with scope(tenant=endpoint.tenant):
        event = Event.objects.create(
            tenant=endpoint.tenant, type="client.updated", description="x", client_id=number
        )
        return WebhookDelivery.objects.create(
            tenant=endpoint.tenant,
            endpoint=endpoint,
            event=event,
            object_key=f"client:{number}",
            status=status,
            response_code=200 if status == "delivered" else 500,
        )


def stored(tenant):
    with scopes_disabled():
        return list(WebhookEndpoint.objects.filter(tenant=tenant))


def test_an_owner_adds_an_endpoint_and_sees_its_secret_once(owner_api, tenant):
    added = owner_api("post", "", {**GOOD, "secret": SECRET, "description": "Billing"})
    assert added.status_code == 201, added.content
    body = added.json()
    assert body["secret"] == SECRET
    assert body["event_types"] == ["client.updated", "hold.placed"] and body["is_active"]
    [endpoint] = stored(tenant)
    assert endpoint.secret == SECRET and SECRET not in endpoint.secret_encrypted
    read = owner_api("get", f"{endpoint.pk}/")
    listed = owner_api("get", "")
    changed = owner_api("patch", f"{endpoint.pk}/", {"description": "Other"})
    for answer in (read, listed, changed):
        assert answer.status_code == 200
        assert SECRET not in answer.content.decode() and "secret" not in answer.json()
    with scopes_disabled():
        assert Event.objects.filter(tenant=tenant, type="webhook_endpoint.created").count() == 1


def test_an_add_without_a_secret_answers_the_one_it_made(owner_api, tenant):
    added = owner_api("post", "", GOOD)
    assert added.status_code == 201, added.content
    secret = added.json()["secret"]
    assert len(secret) >= 32
    [endpoint] = stored(tenant)
    assert endpoint.secret == secret


def test_a_retried_add_answers_the_same_secret_kept_encrypted(owner_api, tenant):
    first = owner_api("post", "", GOOD, HTTP_IDEMPOTENCY_KEY="hook-1")
    again = owner_api("post", "", GOOD, HTTP_IDEMPOTENCY_KEY="hook-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(stored(tenant)) == 1
    with scopes_disabled():
        [record] = ApiIdempotencyRecord.objects.filter(tenant=tenant)
    assert first.json()["secret"] not in json.dumps(record.body)


@pytest.mark.parametrize(
    "url", ["http://10.0.0.1/hook", "http://169.254.169.254/latest", "http://[::1]:9/hook"]
)
def test_an_address_the_outbound_policy_refuses_is_a_422_at_url(owner_api, tenant, url):
    refused = owner_api("post", "", {**GOOD, "url": url})
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in refused.json()["errors"]] == ["url"]
    assert stored(tenant) == []


def test_changing_to_a_refused_address_is_a_422_and_changes_nothing(owner_api, tenant):
    endpoint = make_endpoint(tenant)
    refused = owner_api("patch", f"{endpoint.pk}/", {"url": "http://10.1.2.3/"})
    assert refused.status_code == 422
    assert [error["field"] for error in refused.json()["errors"]] == ["url"]
    assert stored(tenant)[0].url == endpoint.url


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "event_types": []}, "event_types"),
        ({**GOOD, "event_types": ["no.such"]}, "event_types"),
        ({**GOOD, "secret": "short"}, "secret"),
        ({**GOOD, "secret": "with spaces in the secret"}, "secret"),
        ({**GOOD, "url": "ftp://127.0.0.1/x"}, "url"),
        ({**GOOD, "description": "x" * 201}, "description"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_adds_nothing(owner_api, tenant, body, field):
    refused = owner_api("post", "", body)
    assert refused.status_code == 422, refused.content
    assert field in {error["field"] for error in refused.json()["errors"]}
    assert stored(tenant) == []


def test_the_refusal_is_in_the_callers_language(owner_api):
    refused = owner_api("post", "", {**GOOD, "event_types": []}, HTTP_ACCEPT_LANGUAGE="ru")
    assert refused.status_code == 422
    message = refused.json()["errors"][0]["message"]
    assert message and not message.isascii()


def test_a_change_sets_the_fields_sent_and_a_new_secret_replaces_the_stored_one(owner_api, tenant):
    endpoint = make_endpoint(tenant, description="Billing")
    changed = owner_api("patch", f"{endpoint.pk}/", {"is_active": False, "secret": "n" * 20})
    assert changed.status_code == 200, changed.content
    assert changed.json()["is_active"] is False
    assert changed.json()["description"] == "Billing"  # not sent: kept
    [after] = stored(tenant)
    assert after.secret == "n" * 20 and not after.is_active
    kept = owner_api("patch", f"{endpoint.pk}/", {"is_active": True})
    assert kept.json()["is_active"] is True
    assert stored(tenant)[0].secret == "n" * 20  # no secret sent: kept


def test_deleting_an_endpoint_removes_it_with_its_log(owner_api, tenant):
    endpoint = make_endpoint(tenant)
    make_delivery(endpoint)
    deleted = owner_api("delete", f"{endpoint.pk}/")
    assert deleted.status_code == 204 and deleted.content == b""
    assert stored(tenant) == []
    with scopes_disabled():
        assert not WebhookDelivery.objects.filter(tenant=tenant).exists()
    assert owner_api("get", f"{endpoint.pk}/").status_code == 404


def test_the_delivery_log_is_newest_first_filtered_and_redelivers(owner_api, tenant):
    endpoint = make_endpoint(tenant)
    older = make_delivery(endpoint, 1, status="failed")
    newer = make_delivery(endpoint, 2)
    log = owner_api("get", f"{endpoint.pk}/deliveries/")
    assert log.status_code == 200
    assert [item["id"] for item in log.json()["items"]] == [newer.pk, older.pk]
    assert log.json()["items"][0]["event_type"] == "client.updated"
    failed = owner_api("get", f"{endpoint.pk}/deliveries/", QUERY_STRING="status=failed")
    assert [item["id"] for item in failed.json()["items"]] == [older.pk]
    again = owner_api("post", f"{endpoint.pk}/deliveries/{older.pk}/redeliver/")
    assert again.status_code == 201, again.content
    assert again.json()["redelivery_of"] == older.pk
    assert again.json()["event"] == older.event_id
    assert again.json()["delivery_id"] != str(older.delivery_id)


def test_a_delivery_of_another_endpoint_is_not_found(owner_api, tenant):
    endpoint, other = make_endpoint(tenant), make_endpoint(tenant, url="http://127.0.0.1:10/")
    delivery = make_delivery(other)
    missed = owner_api("post", f"{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert missed.status_code == 404


@pytest.mark.parametrize("role", ["manager", "accountant", "viewer"])
def test_other_roles_are_refused(client, tenant, token, role):
    endpoint = make_endpoint(tenant)
    headers = token(role)
    assert client.get("/api/v1/webhooks/", **headers).status_code == 403
    assert client.get(f"/api/v1/webhooks/{endpoint.pk}/", **headers).status_code == 403
    assert client.delete(f"/api/v1/webhooks/{endpoint.pk}/", **headers).status_code == 403
    assert len(stored(tenant)) == 1


def test_another_tenants_endpoint_is_not_found(client, tenant, other_tenant, token):
    endpoint = make_endpoint(other_tenant)
    headers = token()
    assert client.get(f"/api/v1/webhooks/{endpoint.pk}/", **headers).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{endpoint.pk}/", **headers).status_code == 404
    assert len(stored(other_tenant)) == 1


def test_a_refused_address_is_told_in_the_callers_language(owner_api):
    refused = owner_api("post", "", {**GOOD, "url": "http://10.0.0.1/"}, HTTP_ACCEPT_LANGUAGE="ru")
    [error] = refused.json()["errors"]
    assert error["message"] == "10.0.0.1 — вне сетей, к которым Clientdesk может подключаться."

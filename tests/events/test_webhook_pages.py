"""The webhook pages: owners only, another tenant's endpoint or delivery is a 404, the form
refuses bad input at its field and changes nothing, the lists' queries do not grow."""

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from events.models import Event
from events.webhook_models import WebhookDelivery, WebhookEndpoint
from events.webhooks import webhook_endpoint_create
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

LIST = reverse("events:webhook_endpoint_list")
CREATE = reverse("events:webhook_endpoint_create")
SECRET = "s3cret-signing-key-0123456789"
GOOD = {
    "url": "http://127.0.0.1:9/hook",
    "description": "Billing system",
    "secret": SECRET,
    "event_types": ["client.updated", "hold.placed"],
    "is_active": "on",
}


def make_endpoint(tenant, url="http://127.0.0.1:9/hook"):
    return webhook_endpoint_create(
        tenant=tenant, actor=None, url=url, secret=SECRET, event_types=["client.updated"]
    )


def make_delivery(endpoint, number=1):
    with scope(tenant=endpoint.tenant):
        event = Event.objects.create(
            tenant=endpoint.tenant, type="client.updated", description="x", client_id=number
        )
        return WebhookDelivery.objects.create(
            tenant=endpoint.tenant,
            endpoint=endpoint,
            event=event,
            object_key=f"client:{number}",
            status="delivered",
            response_code=200,
            response_excerpt="ok",
        )


def endpoint_urls(endpoint, delivery):
    return [
        ("get", reverse("events:webhook_endpoint_edit", args=[endpoint.pk])),
        ("post", reverse("events:webhook_endpoint_edit", args=[endpoint.pk])),
        ("post", reverse("events:webhook_endpoint_delete", args=[endpoint.pk])),
        ("get", reverse("events:webhook_delivery_list", args=[endpoint.pk])),
        ("post", reverse("events:webhook_delivery_redeliver", args=[delivery.pk])),
    ]


def test_an_owner_adds_an_endpoint(client, owner, tenant):
    response = client.post(CREATE, GOOD)
    assert response.status_code == 302 and response["Location"] == LIST
    with scopes_disabled():
        endpoint = WebhookEndpoint.objects.get(tenant=tenant)
        assert Event.objects.filter(tenant=tenant, type="webhook_endpoint.created").exists()
    assert endpoint.event_types == ["client.updated", "hold.placed"]
    assert endpoint.secret == SECRET and SECRET not in endpoint.secret_encrypted
    page = client.get(LIST)
    assert "http://127.0.0.1:9/hook" in page.content.decode()
    edit = client.get(reverse("events:webhook_endpoint_edit", args=[endpoint.pk]))
    assert SECRET not in edit.content.decode()  # write-only


def test_editing_keeps_the_secret_when_left_empty_and_turning_off_is_recorded(
    client, owner, tenant
):
    endpoint = make_endpoint(tenant)
    url = reverse("events:webhook_endpoint_edit", args=[endpoint.pk])
    data = GOOD | {"secret": "", "url": "http://127.0.0.2:9/hook"}
    data.pop("is_active")
    assert client.post(url, data).status_code == 302
    with scopes_disabled():
        endpoint.refresh_from_db()
        changed = Event.objects.get(tenant=tenant, type="webhook_endpoint.updated")
    assert endpoint.secret == SECRET and not endpoint.is_active
    assert endpoint.url == "http://127.0.0.2:9/hook"
    assert changed.payload["changes"]["is_active"] == [True, False]


def test_an_owner_deletes_an_endpoint_with_its_log(client, owner, tenant):
    endpoint = make_endpoint(tenant)
    make_delivery(endpoint)
    url = reverse("events:webhook_endpoint_delete", args=[endpoint.pk])
    assert client.post(url).status_code == 302
    with scopes_disabled():
        assert not WebhookEndpoint.objects.filter(tenant=tenant).exists()
        assert not WebhookDelivery.objects.filter(tenant=tenant).exists()


def test_the_delivery_log_shows_status_code_and_excerpt_and_redelivers(client, owner, tenant):
    endpoint = make_endpoint(tenant)
    delivery = make_delivery(endpoint)
    page = client.get(reverse("events:webhook_delivery_list", args=[endpoint.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert str(delivery.delivery_id) in html and "Delivered" in html and ">ok<" in html
    response = client.post(reverse("events:webhook_delivery_redeliver", args=[delivery.pk]))
    assert response.status_code == 302
    with scopes_disabled():
        again = WebhookDelivery.objects.exclude(pk=delivery.pk).get(tenant=tenant)
    assert again.redelivery_of_id == delivery.pk and again.status == "pending"
    assert again.delivery_id != delivery.delivery_id


def test_the_delivery_log_answers_htmx_with_the_table_only(client, owner, tenant):
    endpoint = make_endpoint(tenant)
    make_delivery(endpoint)
    url = reverse("events:webhook_delivery_list", args=[endpoint.pk])
    response = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region")
    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("role", ["manager", "accountant", "viewer"])
def test_other_roles_are_refused(client, tenant, login_as, role):
    endpoint = make_endpoint(tenant)
    delivery = make_delivery(endpoint)
    login_as(tenant, role)
    for method, url in [("get", LIST), ("get", CREATE), ("post", CREATE)] + endpoint_urls(
        endpoint, delivery
    ):
        assert getattr(client, method)(url, GOOD).status_code == 403, (method, url)
    with scopes_disabled():
        assert WebhookEndpoint.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_another_tenants_endpoint_and_delivery_are_not_found(client, owner, other_tenant):
    endpoint = make_endpoint(other_tenant)
    delivery = make_delivery(endpoint)
    for method, url in endpoint_urls(endpoint, delivery):
        assert getattr(client, method)(url, GOOD).status_code == 404, (method, url)
    with scopes_disabled():
        endpoint.refresh_from_db()
        assert endpoint.url == GOOD["url"] and WebhookDelivery.objects.count() == 1
    assert "127.0.0.1:9" not in client.get(LIST).content.decode()


def test_the_nav_shows_webhooks_to_owners_only(client, tenant, login_as):
    login_as(tenant, "owner")
    assert LIST in client.get(reverse("events:event_list")).content.decode()
    login_as(tenant, "accountant")
    assert LIST not in client.get(reverse("events:event_list")).content.decode()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("url", "", "This field is required."),
        ("url", "not a url", "Enter a valid URL."),
        ("url", "ftp://127.0.0.1/hook", "Enter an http:// or https:// URL"),
        ("url", "http://user:pw@127.0.0.1:9/hook", "Put no user name or password in the URL"),
        ("url", "http://10.0.0.5/hook", "10.0.0.5 is outside the networks"),
        ("url", "http://127.0.0.1:5432/hook", "a service of Clientdesk itself"),
        ("url", "http://no-such-host.invalid/hook", "cannot be resolved"),
        ("url", "http://127.0.0.1:99999/hook", "Enter a port from 1 to 65535."),
        ("url", "http://127.0.0.1/" + "a" * 3000, "at most 2000 characters"),
        ("secret", "", "This field is required."),
        ("secret", "short", "Use 16 to 200 characters."),
        ("secret", "x" * 100_000, "at most 200 characters"),
        ("secret", "with spaces in the secret", "may not contain spaces"),
        ("event_types", [], "Choose at least one event."),
        ("event_types", ["client.nope"], "Select a valid choice."),
        ("description", "x" * 201, "at most 200 characters"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_changes_nothing(
    client, owner, tenant, field, value, message
):
    response = client.post(CREATE, GOOD | {field: value})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in error for error in errors.get(field, [])), errors
    with scopes_disabled():
        assert not WebhookEndpoint.objects.exists()
        assert not Event.objects.exists()


def test_control_characters_are_removed_before_the_form_reads_them(client, owner, tenant):
    """The portal's middleware strips them from every field (core.text): what is stored is
    clean, never refused for what the operator could not see."""
    data = GOOD | {"url": "http://127.0.0.1:9/\x01hook", "description": "bell\x07"}
    assert client.post(CREATE, data | {"secret": SECRET + "\x00"}).status_code == 302
    with scopes_disabled():
        endpoint = WebhookEndpoint.objects.get(tenant=tenant)
    assert (endpoint.url, endpoint.description, endpoint.secret) == (
        "http://127.0.0.1:9/hook",
        "bell",
        SECRET,
    )


@pytest.mark.parametrize("rows", [1, 30])
def test_list_query_counts_do_not_grow(client, owner, tenant, rows, django_assert_max_num_queries):
    endpoints = [make_endpoint(tenant, f"http://127.0.0.1:9/hook{n}") for n in range(rows)]
    for number in range(rows):
        make_delivery(endpoints[0], number)
    with django_assert_max_num_queries(9):
        assert client.get(LIST, {"per_page": 100}).status_code == 200
    deliveries = reverse("events:webhook_delivery_list", args=[endpoints[0].pk])
    with django_assert_max_num_queries(10):
        response = client.get(deliveries, {"per_page": 100})
    assert len(response.context["table"].page.object_list) == rows


def test_a_tenant_without_endpoints_sees_an_empty_list(client, owner):
    other = TenantFactory()
    make_endpoint(other)
    response = client.get(LIST)
    assert response.status_code == 200 and "127.0.0.1:9" not in response.content.decode()

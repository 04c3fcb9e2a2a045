"""An owner adds a webhook endpoint, sees an event's delivery in its log, and redelivers it;
the receiver on 127.0.0.1 gets both, each with its own delivery id."""

import pytest
from django.db import transaction
from playwright.sync_api import expect

from config.celery import app as celery_app
from core.stored_text import literal_text
from events.services import event_record
from tests.events.receiver import Receiver
from tests.factories import ClientFactory, MembershipFactory, TenantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SECRET = "s3cret-signing-key-0123456789"


@pytest.fixture
def receiver():
    started = Receiver()
    yield started
    started.stop()


@pytest.fixture
def celery_eager():
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def test_owner_adds_an_endpoint_sees_a_delivery_and_redelivers(
    page, log_in, receiver, celery_eager
):
    tenant = TenantFactory(name="Hooks Co", slug="hooks")
    owner = MembershipFactory(tenant=tenant, role="owner")
    customer = ClientFactory(tenant=tenant)
    log_in(owner.user.username)
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_test_id("endpoint-add").click()
    page.fill("#id_url", "http://10.9.9.9/hook")
    page.fill("#id_secret", SECRET)
    page.get_by_label("Client edited").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator('[data-field-error="url"]')).to_contain_text("outside the networks")
    page.fill("#id_url", receiver.url())
    page.fill("#id_secret", SECRET)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Webhook endpoint {receiver.url()} saved.")).to_be_visible()

    with transaction.atomic():
        event_record(
            tenant=tenant,
            type="client.updated",
            description=literal_text("Client edited: phone."),
            client_id=customer.pk,
        )
    (first,) = receiver.wait_for(1)
    assert first.signature_valid(SECRET)

    page.get_by_role("link", name=receiver.url()).click()
    page.get_by_test_id("endpoint-deliveries").click()
    row = page.locator(f'tr[data-delivery="{first.delivery}"]')
    expect(row.get_by_test_id("delivery-status")).to_have_text("Delivered")
    expect(row).to_contain_text("204")
    row.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_text("is being sent again")).to_be_visible()
    _, second = receiver.wait_for(2)
    assert second.delivery != first.delivery and second.body == first.body
    page.reload()
    expect(page.locator("tr[data-delivery]")).to_have_count(2)
    again = page.locator(f'tr[data-delivery="{second.delivery}"]')
    expect(again.get_by_test_id("delivery-status")).to_have_text("Delivered")

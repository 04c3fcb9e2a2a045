"""The Names tab: the client's sender IDs with status and questionnaire; add and edit with
validation (alphanumeric ≤ 11, numeric ≤ 15 digits, unique per client and channel); managers
approve, reject with a reason, block; roles; tenants (404)."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from messaging.models import SenderId
from tests.factories import ClientFactory, SenderIdFactory
from tests.helpers import assert_other_tenant_gives_404, assert_role_refused

pytestmark = pytest.mark.django_db


def names_url(customer):
    return reverse("messaging:client_names", kwargs={"number": customer.number})


def create_url(customer):
    return reverse("messaging:sender_create", kwargs={"number": customer.number})


def edit_url(sender):
    return reverse(
        "messaging:sender_update", kwargs={"number": sender.client.number, "pk": sender.pk}
    )


def decide_url(sender):
    return reverse(
        "messaging:sender_decide", kwargs={"number": sender.client.number, "pk": sender.pk}
    )


GOOD = {
    "name": "MyShop",
    "channel": "sms",
    "purpose": "Order updates",
    "sample_text": "Your order shipped",
    "documents_note": "Registration extract",
}


def senders():
    with scopes_disabled():
        return list(SenderId.objects.order_by("id").values_list("name", "channel", "status"))


def test_list_shows_name_status_and_questionnaire(client, owner, tenant):
    customer = ClientFactory(tenant=tenant)
    SenderIdFactory(client=customer, name="Complete1", status="approved")
    SenderIdFactory(client=customer, name="Partial", status="pending", documents_note="")
    response = client.get(names_url(customer))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Complete1" in body and "Partial" in body
    assert body.count(">Complete</span>") == 1 and body.count(">Incomplete</span>") == 1
    assert "Approved" in body and "Pending" in body


def test_add_a_sender(client, owner, tenant):
    customer = ClientFactory(tenant=tenant)
    response = client.post(create_url(customer), GOOD)
    assert response.status_code == 302
    assert senders() == [("MyShop", "sms", "pending")]
    # The same name on Viber is another sender ID; on SMS again (any case) it is refused.
    assert client.post(create_url(customer), {**GOOD, "channel": "viber"}).status_code == 302
    response = client.post(create_url(customer), {**GOOD, "name": "myshop"})
    assert response.status_code == 400
    assert "already has this sender ID" in response.context["form"].errors["name"][0]
    # Another client may use the name.
    other = ClientFactory(tenant=tenant)
    assert client.post(create_url(other), GOOD).status_code == 302


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("TwelveChars1", "at most 11 characters"),
        ("1234567890123456", "at most 15 digits"),
        ("Shop!", "Use Latin letters and digits"),
        ("Магазин", "Use Latin letters and digits"),
        (" Shop", None),  # stripped: accepted
    ],
)
def test_bad_names_are_refused_next_to_the_field(client, owner, tenant, name, message):
    customer = ClientFactory(tenant=tenant)
    response = client.post(create_url(customer), {**GOOD, "name": name})
    if message is None:
        assert response.status_code == 302
        return
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors["name"])
    assert 'data-field-error="name"' in response.content.decode()
    assert senders() == []


def test_numeric_and_short_code_senders_are_accepted(client, owner, tenant):
    customer = ClientFactory(tenant=tenant)
    for name in ("123456789012345", "+371200000001234", "1919", "A.B-C_D&E"):
        assert client.post(create_url(customer), {**GOOD, "name": name}).status_code == 302
    assert len(senders()) == 4


def test_bad_channel_and_long_texts(client, owner, tenant):
    customer = ClientFactory(tenant=tenant)
    response = client.post(create_url(customer), {**GOOD, "channel": "fax"})
    assert response.status_code == 400 and "channel" in response.context["form"].errors
    response = client.post(create_url(customer), {**GOOD, "purpose": "x" * 1001})
    assert response.status_code == 400 and "purpose" in response.context["form"].errors
    assert senders() == []


def test_edit_a_sender_renaming_needs_approval_again(client, owner, tenant):
    customer = ClientFactory(tenant=tenant)
    sender = SenderIdFactory(client=customer, name="Shop", status="approved")
    response = client.post(edit_url(sender), {**GOOD, "name": "Shop"})
    assert response.status_code == 302 and senders() == [("Shop", "sms", "approved")]
    response = client.post(edit_url(sender), {**GOOD, "name": "Shop2"})
    assert response.status_code == 302 and senders() == [("Shop2", "sms", "pending")]
    assert client.get(edit_url(sender)).status_code == 200


def test_edit_refuses_a_clash(client, owner, tenant):
    customer = ClientFactory(tenant=tenant)
    SenderIdFactory(client=customer, name="Taken")
    sender = SenderIdFactory(client=customer, name="Mine")
    response = client.post(edit_url(sender), {**GOOD, "name": "TAKEN"})
    assert response.status_code == 400
    assert senders() == [("Taken", "sms", "approved"), ("Mine", "sms", "approved")]


def test_approve_reject_block(client, login_as, tenant):
    login_as(tenant, "manager")
    customer = ClientFactory(tenant=tenant)
    sender = SenderIdFactory(client=customer, name="Shop", status="pending")
    assert client.post(decide_url(sender), {"status": "approved"}).status_code == 302
    assert senders()[0][2] == "approved"
    response = client.post(decide_url(sender), {"status": "rejected", "reason": ""})
    assert response.status_code == 400
    assert 'data-field-error="reason"' in response.content.decode()
    assert senders()[0][2] == "approved"
    assert (
        client.post(
            decide_url(sender), {"status": "rejected", "reason": "No documents"}
        ).status_code
        == 302
    )
    with scopes_disabled():
        rejected = SenderId.objects.get()
    assert (rejected.status, rejected.status_reason) == ("rejected", "No documents")
    assert rejected.decided_by is not None
    assert client.post(decide_url(sender), {"status": "blocked"}).status_code == 302
    assert senders()[0][2] == "blocked"
    # Blocking twice is refused with a message; a bad status too.
    response = client.post(decide_url(sender), {"status": "blocked"})
    assert response.status_code == 400 and "cannot be blocked" in response.content.decode()
    assert client.post(decide_url(sender), {"status": "deleted"}).status_code == 400


@pytest.mark.parametrize("role", ["accountant", "viewer"])
def test_roles_that_may_not_change_sender_ids(client, login_as, tenant, role):
    login_as(tenant, role)
    customer = ClientFactory(tenant=tenant)
    sender = SenderIdFactory(client=customer, name="Shop", status="pending")
    assert client.get(names_url(customer)).status_code == 200
    assert 'data-testid="sender-approve"' not in client.get(names_url(customer)).content.decode()
    assert_role_refused(client, create_url(customer))
    assert_role_refused(client, create_url(customer), "post", GOOD)
    assert_role_refused(client, edit_url(sender), "post", GOOD)
    assert_role_refused(client, decide_url(sender), "post", {"status": "approved"})
    assert senders() == [("Shop", "sms", "pending")]


def test_another_tenants_sender_ids_are_404(client, login_as, tenant, other_tenant):
    customer = ClientFactory(tenant=tenant)
    sender = SenderIdFactory(client=customer, name="Shop", status="pending")
    login_as(other_tenant, "owner")
    for target, method, data in [
        (names_url(customer), "get", None),
        (create_url(customer), "get", None),
        (edit_url(sender), "get", None),
        (edit_url(sender), "post", GOOD),
        (decide_url(sender), "post", {"status": "approved"}),
    ]:
        assert_other_tenant_gives_404(client, target, method, data)
    assert senders() == [("Shop", "sms", "pending")]


def test_a_sender_of_another_client_is_404(client, owner, tenant):
    first = ClientFactory(tenant=tenant)
    second = ClientFactory(tenant=tenant)
    sender = SenderIdFactory(client=first, name="Shop")
    wrong = reverse("messaging:sender_update", kwargs={"number": second.number, "pk": sender.pk})
    assert client.get(wrong).status_code == 404


def test_names_tab_query_count_is_fixed(client, owner, tenant, django_assert_max_num_queries):
    customer = ClientFactory(tenant=tenant)
    for i in range(15):
        SenderIdFactory(client=customer, name=f"S{i}")
    with django_assert_max_num_queries(12):
        assert client.get(names_url(customer)).status_code == 200

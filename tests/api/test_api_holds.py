"""Holds over real HTTP: an administrative hold placed and released with a reason (the
client's status and subscriptions follow, as from the client page), the holds in force and a
client's history, financial holds refused to the API as to the page, bad input at its field,
roles."""

from django_scopes import scopes_disabled

from clients.models import Client, ClientStatus
from core.stored_text import literal_text
from holds.models import ClientHold, HoldKind
from holds.services import client_place_hold
from subscriptions.models import Subscription, SubscriptionStatus
from tests.api.test_api_http import assert_problem
from tests.factories import PackageFactory, SubscriptionFactory


def status_of(customer) -> str:
    with scopes_disabled():
        return Client.objects.get(pk=customer.pk).status


def holds_of(customer) -> list[tuple]:
    with scopes_disabled():
        return list(
            ClientHold.objects.filter(client=customer)
            .order_by("pk")
            .values_list("kind", "reason", "lifted_at")
        )


def test_place_list_and_release_an_administrative_hold(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant, name="Held")
    api_client_of(api_tenant, name="Free")
    with scopes_disabled():
        live = SubscriptionFactory(
            tenant=api_tenant, client=customer, package=PackageFactory(tenant=api_tenant)
        )
    api = api_as(api_tenant, "manager")
    url = f"clients/{customer.number}/holds/"

    keyed = {"Idempotency-Key": "hold-1"}
    placed = api.post(url, json={"reason": "  Abuse report  "}, headers=keyed)
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["kind"] == "administrative" and body["reason"] == "Abuse report"
    assert body["in_force"] is True and body["client"] == customer.number
    assert body["set_by"] == "system" and body["lifted_by"] is None
    assert (api.post(url, json={"reason": "  Abuse report  "}, headers=keyed).json()) == body
    assert status_of(customer) == ClientStatus.ADMINISTRATIVE_HOLD
    with scopes_disabled():
        assert Subscription.objects.get(pk=live.pk).status == SubscriptionStatus.SUSPENDED
    assert_problem(api.post(url, json={"reason": "Again"}), 422)  # already on hold

    in_force = api.get("holds/").json()["items"]
    assert [(item["id"], item["client"]) for item in in_force] == [(body["id"], customer.number)]
    assert api.get("holds/", params={"client": customer.number}).json()["items"] == in_force
    assert api.get("holds/", params={"kind": "financial"}).json()["items"] == []

    released = api.post(f"{url}release/", json={"reason": "Resolved"})
    assert released.status_code == 200, released.text
    lifted = released.json()
    assert lifted["in_force"] is False and lifted["lift_reason"] == "Resolved"
    assert lifted["lifted_by"] == "system" and lifted["lifted_at"]
    assert status_of(customer) == ClientStatus.ACTIVE
    with scopes_disabled():
        assert Subscription.objects.get(pk=live.pk).status == SubscriptionStatus.ACTIVE
    assert_problem(api.post(f"{url}release/", json={"reason": "Twice"}), 422)

    assert api.get("holds/").json()["items"] == []
    history = api.get(url).json()["items"]
    assert [item["id"] for item in history] == [body["id"]]
    assert api.get(url, params={"in_force": "true"}).json()["items"] == []
    lifted_only = api.get(url, params={"in_force": "false", "fields": "id,in_force"}).json()
    assert lifted_only["items"] == [{"id": body["id"], "in_force": False}]


def test_financial_holds_are_the_systems(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant)
    with scopes_disabled():
        client_place_hold(
            tenant=api_tenant,
            client=customer,
            kind=HoldKind.FINANCIAL,
            reason=literal_text("Debt of 12.00"),
            job="financial holds",
        )
    api = api_as(api_tenant, "owner")
    listed = api.get("holds/", params={"kind": "financial"}).json()["items"]
    assert [(item["kind"], item["set_by"]) for item in listed] == [("financial", "financial holds")]
    url = f"clients/{customer.number}/holds/"
    for path in (url, f"{url}release/"):
        refused = assert_problem(api.post(path, json={"reason": "Paid", "kind": "financial"}), 422)
        assert [error["field"] for error in refused["errors"]] == ["kind"]
    # An administrative release of a client on financial hold alone: not on that hold.
    assert_problem(api.post(f"{url}release/", json={"reason": "Paid"}), 422)
    assert holds_of(customer) == [("financial", literal_text("Debt of 12.00"), None)]
    assert status_of(customer) == ClientStatus.FINANCIAL_HOLD


def test_bad_input_is_refused_at_its_field_and_changes_nothing(
    api_tenant, api_other_tenant, api_as, api_client_of
):
    customer = api_client_of(api_tenant)
    for _ in range(3):  # tenant B's client #3, a number tenant A does not use
        theirs = api_client_of(api_other_tenant)
    gone = api_client_of(api_tenant, status=ClientStatus.DELETED)
    api = api_as(api_tenant, "manager")
    url = f"clients/{customer.number}/holds/"
    for body, field in [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": 12}, "reason"),
        ({"reason": "Fine", "kind": "forever"}, "kind"),
    ]:
        assert_problem(api.post(url, json=body), 422, field)
    assert_problem(api.post(f"clients/{gone.number}/holds/", json={"reason": "Late"}), 422)
    assert_problem(api.post("clients/999/holds/", json={"reason": "Nobody"}), 404)
    assert_problem(api.get("holds/", params={"client": "abc"}), 422, "client")
    assert_problem(api.get("holds/", params={"kind": "other"}), 422, "kind")
    assert_problem(api.get(url, params={"cursor": "forged"}), 422, "cursor")
    assert_problem(api.post(f"clients/{theirs.number}/holds/", json={"reason": "x"}), 404)
    assert holds_of(customer) == [] and holds_of(gone) == [] and holds_of(theirs) == []


def test_roles(api_tenant, api_as, api_client_of):
    customer = api_client_of(api_tenant)
    url = f"clients/{customer.number}/holds/"
    for scope in ("viewer", "accountant", "ingest"):
        api = api_as(api_tenant, scope)
        assert_problem(api.post(url, json={"reason": "No"}), 403)
        assert_problem(api.post(f"{url}release/", json={"reason": "No"}), 403)
    assert api_as(api_tenant, "accountant").get("holds/").status_code == 200
    assert_problem(api_as(api_tenant, "ingest").get("holds/"), 403)
    assert holds_of(customer) == []

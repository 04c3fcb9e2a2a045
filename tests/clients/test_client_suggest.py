"""Suggestions under the search box."""

import re

import pytest
from django.urls import reverse

from clients.models import ClientStatus
from clients.selectors import SUGGEST_LIMIT, client_suggestions

pytestmark = pytest.mark.django_db


@pytest.fixture
def suggest(client):
    def get(term, **headers):
        return client.get(reverse("clients:client_suggest"), {"q": term}, **headers)

    return get


def suggested(response) -> list[int]:
    return [
        int(n)
        for n in re.findall(rb'data-testid="suggestion" data-number="(\d+)"', response.content)
    ]


def test_suggestions_are_links_to_the_client(owner, make_client, suggest):
    c = make_client(owner.tenant, name="Valentina Tereshkova")
    response = suggest("tere", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert suggested(response) == [c.number]
    assert f'href="{reverse("clients:client_detail", kwargs={"number": c.number})}"' in html
    assert "Valentina Tereshkova" in html
    assert "<html" not in html
    assert 'data-testid="suggestion-all"' in html  # Enter / "all results" submits the search
    assert "HX-Request" in response["Vary"]


def test_text_needs_three_characters_digits_one(owner, make_client, suggest):
    make_client(owner.tenant, name="Oleg Popov", itn="5012345678")
    assert suggested(suggest("ol")) == []
    assert "at least 3 letters" in suggest("ol").content.decode()
    assert suggested(suggest("ole")) != []
    assert suggested(suggest("5")) != []  # an ITN starting with 5
    assert suggested(suggest("")) == []
    assert suggest("").content.decode().strip() == ""


def test_ranking_id_then_login_then_itn_then_name_then_anywhere(owner, make_client, suggest):
    by_id = make_client(owner.tenant, name="Zed One", login="+49301000000", itn="1000000001")
    by_login = make_client(owner.tenant, name="Zed Two", login="+23456789012", itn="3000000003")
    by_itn = make_client(owner.tenant, name="Zed Three", login="+49302000000", itn="2345678901")
    inside = make_client(owner.tenant, name="Zed Four", email="x12345y@example.com", itn="4")
    assert by_id.number == 1
    numbers = suggested(suggest("1"))
    assert numbers[0] == by_id.number
    numbers = suggested(suggest("2345"))
    assert numbers[:2] == [by_login.number, by_itn.number]
    assert inside.number in numbers


def test_name_prefix_before_inside_matches(owner, make_client, suggest, days_ago):
    inside = make_client(owner.tenant, name="Maria Annabel", last_purchase_at=days_ago(1))
    start = make_client(owner.tenant, name="Anna Berg", last_purchase_at=days_ago(100))
    assert suggested(suggest("anna")) == [start.number, inside.number]


def test_at_most_eight(owner, make_client, suggest):
    for i in range(20):
        make_client(owner.tenant, name=f"Common Name {i}")
    assert len(suggested(suggest("common"))) == SUGGEST_LIMIT == 8


def test_no_match_says_so(owner, make_client, suggest):
    make_client(owner.tenant, name="Someone")
    response = suggest("nobody")
    assert suggested(response) == []
    assert "No client matches" in response.content.decode()


def test_deleted_clients_are_suggested_with_their_badge(owner, make_client, suggest):
    gone = make_client(owner.tenant, name="Gone Person", status=ClientStatus.DELETED)
    response = suggest("gone")
    assert suggested(response) == [gone.number]
    assert 'data-status="deleted"' in response.content.decode()


def test_other_tenants_clients_never_suggested(owner, other_tenant, make_client, suggest):
    make_client(other_tenant, name="Foreign Person", itn="8888888888", login="+78880000000")
    for term in ("foreign", "person", "8888", "+7888", "1"):
        assert suggested(suggest(term)) == []
    assert client_suggestions(tenant=other_tenant, value="foreign")


def test_bad_input_is_not_an_error(owner, make_client, suggest):
    make_client(owner.tenant)
    for term in ("x" * 10_000, "%_%", "\\", "9" * 40, "+", "   ", "'; select 1; --"):
        assert suggest(term).status_code == 200


def test_suggestions_need_a_login(client):
    response = client.get(reverse("clients:client_suggest"), {"q": "anna"})
    assert response.status_code == 302


def test_suggestions_use_few_queries(owner, make_client, suggest, django_assert_max_num_queries):
    for i in range(30):
        make_client(owner.tenant, name=f"Query Count {i}")
    suggest("query")
    with django_assert_max_num_queries(3 + 5):  # session, user, memberships + one per rank
        suggest("query")

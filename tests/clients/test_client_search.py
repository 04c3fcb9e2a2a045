"""The search box of the client list: every field it names, digits, short terms, wildcards and
absurd input."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from clients.selectors import SEARCH_MAX_LENGTH, client_search, normalize_term, search_condition

from .helpers import listed_numbers

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(owner, make_client):
    """One client with a distinct value in every searchable field, and two bystanders."""
    make_client(owner.tenant, name="Boris Bystander", company="Nothing Alike", itn="1111111111")
    make_client(owner.tenant, name="Clara Other", company="Other Firm", itn="2222222222")
    return make_client(
        owner.tenant,
        name="Anastasia Quartzova",
        company="Zephyrine Holdings",
        login="+79161234567",
        email="ana.q@mailbox-unique.example",
        itn="7707083893",
        contact_name="Vladislav Kontaktov",
        contact_email="vlad@contact-unique.example",
    )


@pytest.mark.parametrize(
    "term",
    [
        "Anastasia",  # name, first word
        "quartzova",  # name, any case
        "tasia Quar",  # inside the name
        "Zephyrine",  # company
        "holdings",
        "+79161234567",  # login, whole
        "+7916123",  # login prefix
        "7916123",  # login digits without +
        "7707083893",  # ITN whole
        "770708",  # ITN prefix
        "ana.q@mailbox",  # e-mail
        "mailbox-unique",
        "Kontaktov",  # contact person's name
        "vlad@contact-unique",  # contact person's e-mail
        "  QUARTZOVA  ",  # surrounding spaces, upper case
        "quartzova anastasia",  # words in another order
    ],
)
def test_search_finds_every_field(client, list_url, target, term):
    assert listed_numbers(client.get(list_url, {"q": term})) == [target.number]


def test_search_by_client_id(client, owner, make_client, list_url):
    clients = [make_client(owner.tenant) for _ in range(12)]
    # ID 1 finds client 1, and (as a prefix of logins/ITNs) nothing else here.
    found = listed_numbers(client.get(list_url, {"q": str(clients[10].number)}))
    assert clients[10].number in found


def test_id_search_is_exact_not_prefix(client, owner, make_client, list_url):
    for _ in range(12):
        make_client(owner.tenant, login="", itn="")
    found = listed_numbers(client.get(list_url, {"q": "1"}))
    assert found == [1]


def test_short_text_matches_the_start_of_the_name(client, owner, make_client, list_url):
    al = make_client(owner.tenant, name="Al Bundy", company="Shoes")
    make_client(owner.tenant, name="Sal Tal", company="Alpine")  # "al" inside, not at the start
    assert listed_numbers(client.get(list_url, {"q": "al"})) == [al.number]


@pytest.mark.parametrize("term", ["%", "_", "%%%", "a_b", "\\", "100%"])
def test_like_wildcards_are_literal(client, owner, make_client, list_url, term):
    make_client(owner.tenant, name="Plain Name", company="Plain Co")
    response = client.get(list_url, {"q": term})
    assert response.status_code == 200
    assert listed_numbers(response) == []


def test_literal_percent_and_underscore_are_found(client, owner, make_client, list_url):
    odd = make_client(owner.tenant, name="Rate 100% Ltd", company="under_score Inc")
    make_client(owner.tenant, name="Rate 1000 Ltd", company="underXscore Inc")
    assert listed_numbers(client.get(list_url, {"q": "100%"})) == [odd.number]
    assert listed_numbers(client.get(list_url, {"q": "under_score"})) == [odd.number]


def test_ten_thousand_characters_are_cut_not_an_error(client, owner, make_client, list_url):
    long_name = "Q" * 80
    c = make_client(owner.tenant, name=long_name)
    response = client.get(list_url, {"q": long_name + "Z" * 9_920})
    assert response.status_code == 200
    # The first SEARCH_MAX_LENGTH characters are searched: 80 Q then 20 Z match nothing ...
    assert listed_numbers(response) == []
    box = response.content.decode().split('data-testid="client-search"')[0].rsplit("<input", 1)[1]
    assert f'value="{long_name}{"Z" * 20}"' in box  # the box shows what was searched
    # ... while a long query that starts with the name finds it when cut to the limit.
    response = client.get(list_url, {"q": ("q" * 80 + " ") * 130})
    assert response.status_code == 200
    assert c.number in listed_numbers(response)


def test_normalize_term():
    assert normalize_term("  Foo   BAR ") == "foo bar"
    assert len(normalize_term("x" * 10_000)) == SEARCH_MAX_LENGTH
    assert normalize_term(None) == ""
    assert search_condition("") is None


def test_huge_number_is_not_an_error(client, owner, make_client, list_url):
    make_client(owner.tenant)
    response = client.get(list_url, {"q": "9" * 60})
    assert response.status_code == 200


def test_search_is_one_indexed_condition_in_sql(owner, make_client):
    """The SQL the search produces: prefix LIKEs for digits and a LIKE on search_text (the
    pg_trgm index), never a function of the column that would hide the index."""
    make_client(owner.tenant)
    base = Client.objects.for_tenant(owner.tenant)
    with CaptureQueriesContext(connection) as captured:
        list(client_search(base, "7707"))
        list(client_search(base, "Anna"))
        list(client_search(base, "an"))
    digits, text, short = (q["sql"] for q in captured.captured_queries)
    assert "\"login\"::text LIKE '+7707%'" in digits
    assert "\"itn\"::text LIKE '7707%'" in digits
    assert '"number" = 7707' in digits
    assert "\"search_text\"::text LIKE '%anna%'" in text
    assert "UPPER(" not in text
    assert "\"search_text\"::text LIKE 'an%'" in short


def test_search_combines_with_filters(client, owner, make_client, list_url):
    a = make_client(owner.tenant, name="Ivan Held", status="financial_hold")
    make_client(owner.tenant, name="Ivan Active")
    found = listed_numbers(client.get(list_url, {"q": "ivan", "status": "financial_hold"}))
    assert found == [a.number]


def test_search_never_reaches_another_tenant(client, owner, other_tenant, make_client, list_url):
    make_client(other_tenant, name="Foreign Quartz", itn="9999999999", login="+79990000000")
    for term in ("foreign", "quartz", "9999999999", "+7999", "1"):
        assert listed_numbers(client.get(list_url, {"q": term})) == []


def test_few_matches_are_sorted_after_fetching_them_all(
    client, owner, make_client, list_url, days_ago, monkeypatch
):
    """A search with few matches takes them by the search index, then sorts: same rows and
    order as the plain plan, on every page and sort."""
    from clients.tables import ClientTable

    for i in range(25):
        make_client(
            owner.tenant,
            name=f"Rare Match {i}",
            last_purchase_at=days_ago(i % 7) if i % 4 else None,
        )
    make_client(owner.tenant, name="Other Person")
    plain = {}
    monkeypatch.setattr(ClientTable, "sort_matches_limit", 0)
    for sort in ("-last_purchase_at", "last_purchase_at", "name", "-number"):
        plain[sort] = [
            listed_numbers(client.get(list_url, {"q": "rare", "sort": sort, "page": p}))
            for p in (1, 2, 3)
        ]
    monkeypatch.setattr(ClientTable, "sort_matches_limit", 2000)
    for sort, pages in plain.items():
        got = [
            listed_numbers(client.get(list_url, {"q": "rare", "sort": sort, "page": p}))
            for p in (1, 2, 3)
        ]
        assert got == pages
        assert sum(len(p) for p in got) == 25

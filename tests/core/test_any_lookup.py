"""`field__any` selects what `field__in` selects, with the values as one array parameter
(a chunk's thousand ids are one placeholder, not a thousand), on a field and on a foreign
key; an empty list selects nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from billing.models import Account
from clients.models import Client
from tests.factories import ClientFactory, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(tenant):
    return [ClientFactory(tenant=tenant) for _ in range(5)]


def test_it_selects_what_in_selects_with_one_parameter(clients):
    wanted = [c.pk for c in clients[1:4]] + [0, 2**62]  # ids of no client too
    with scopes_disabled(), CaptureQueriesContext(connection) as captured:
        found = set(Client.objects.filter(pk__any=wanted).values_list("pk", flat=True))
        assert found == set(Client.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert found == {c.pk for c in clients[1:4]}
    sql = captured.captured_queries[0]["sql"]
    listed = ",".join(str(pk) for pk in wanted)
    assert f"= ANY('{{{listed}}}'" in sql and " IN (" not in sql  # one array literal


def test_on_a_foreign_key_and_from_a_set(clients):
    for client in clients:
        make_account(client)
    wanted = {c.pk for c in clients[:2]}
    with scopes_disabled():
        accounts = Account.objects.filter(client_id__any=wanted).values_list("client_id", flat=True)
        assert set(accounts) == wanted
        assert (
            set(Account.objects.filter(client__any=wanted).values_list("client_id", flat=True))
            == wanted
        )


def test_an_empty_list_selects_nothing(clients):
    with scopes_disabled():
        assert not Client.objects.filter(pk__any=[]).exists()
        assert Client.objects.exclude(pk__any=[]).count() == len(clients)


def test_none_matches_nothing_and_instances_stand_for_their_ids(clients):
    for client in clients:
        make_account(client)
    with scopes_disabled():
        accounts = Account.objects.all()
        others = accounts.exclude(client_id__any=[clients[0].pk, None])
        assert others.count() == len(clients) - 1  # as __in: None drops out, not NULL for all
        chosen = accounts.filter(client__any=clients[:2]).values_list("client_id", flat=True)
        assert set(chosen) == {c.pk for c in clients[:2]}


def test_a_text_is_matched_whole_beyond_its_columns_length(clients):
    full = "n" * Client._meta.get_field("name").max_length
    with scopes_disabled():
        Client.objects.filter(pk=clients[0].pk).update(name=full)
        # a cast to the column's varchar(n) would cut the longer value down to the stored one
        assert not Client.objects.filter(name__any=[full + "more"]).exists()
        assert Client.objects.filter(name__any=[full]).get() == clients[0]


def test_a_subquery_is_refused_with_a_clear_message(clients):
    with scopes_disabled(), pytest.raises(TypeError, match="subquery goes through __in"):
        Client.objects.filter(pk__any=Client.objects.values("pk"))

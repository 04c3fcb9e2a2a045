"""Saved views of a list: saved from the list as it is shown, opened by their URL, shared by
owners and managers, removed by their owner (or an owner of the tenant, for a shared one)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from tenancy.models import SavedView
from tenancy.services import membership_save_preference, saved_view_create, saved_view_delete
from tests.factories import ClientFactory, MembershipFactory

pytestmark = pytest.mark.django_db
LIST = "/clients/"


def save(client, name="Debtors", query="sort=number&per_page=20&page=3", **extra):
    return client.post(
        reverse("tenancy:saved_view_create"),
        {"name": name, "list_path": LIST, "list_query": query, **extra},
    )


def views():
    with scopes_disabled():
        return list(SavedView.objects.order_by("pk"))


def headers(response) -> list[str]:
    """The list's data columns (the tick boxes of a selection are the page's, not the view's)."""
    return [bound.name for bound, _ in response.context["table"].data_columns()]


def make_view(membership, name="Mine", *, shared=False, query="sort=number"):
    with scopes_disabled():
        return saved_view_create(
            tenant=membership.tenant,
            actor=membership,
            list_name="clients:client_list",
            name=name,
            query=query,
            columns=["name", "number", "email"],
            per_page=50,
            shared=shared,
        )


def test_save_keeps_filter_sort_columns_and_page_size_then_opens_it(client, tenant, owner):
    ClientFactory.create_batch(3, tenant=tenant)
    membership_save_preference(
        membership=owner, key="tables.ClientTable.columns", value=["number", "email"]
    )
    response = save(client, query="q=an&sort=-number&per_page=20&page=2&view=999")
    [view] = views()
    assert response.status_code == 302 and response["Location"] == view.get_absolute_url()
    assert (view.name, view.list_name, view.owner_id) == (
        "Debtors",
        "clients:client_list",
        owner.pk,
    )
    assert parse_qs(view.query) == {"q": ["an"], "sort": ["-number"]}
    assert sorted(view.columns) == ["email", "name", "number"] and view.per_page == 20
    assert not view.shared

    # Another choice of columns later: the view keeps its own.
    membership_save_preference(
        membership=owner, key="tables.ClientTable.columns", value=["company"]
    )
    opened = client.get(view.get_absolute_url())
    target = urlsplit(opened["Location"])
    assert target.path == LIST
    assert parse_qs(target.query) == {
        "q": ["an"],
        "sort": ["-number"],
        "per_page": ["20"],
        "view": [str(view.pk)],
    }
    page = client.get(opened["Location"])
    assert headers(page) == view.columns
    assert page.context["table"].current_per_page == 20
    assert page.context["saved_view"] == view
    html = page.content.decode()
    assert 'data-testid="saved-view-link"' in html and view.get_absolute_url() in html
    assert sorted(headers(client.get(LIST))) == ["company", "name"]  # without it: the choice


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Give the view a name."),
        ("   ", "Give the view a name."),
        ("x" * 81, "At most 80 characters"),
        ("tab\there", "one line"),
        ("two\nlines", "one line"),
        ("x" * 100_000, "At most 80 characters"),
    ],
)
def test_bad_names_are_refused_at_the_field_and_save_nothing(client, owner, name, message):
    response = save(client, name=name)
    assert response.status_code == 400
    assert any(message in e for e in response.context["form"].errors["name"])
    assert views() == []


def test_control_characters_and_wrong_types_are_refused_by_the_service(tenant, owner):
    for name in ("bad\x01name", "nul\x00", None, 12, ["a"]):
        with pytest.raises(ValidationError) as refused:
            make_view(owner, name)
        assert "name" in refused.value.error_dict
    assert views() == []


def test_a_name_is_unique_per_operator_and_list_whatever_its_case(client, tenant, owner):
    assert save(client, name="Debtors").status_code == 302
    response = save(client, name=" debtors ")
    assert response.status_code == 400
    assert "already have a view" in response.context["form"].errors["name"][0]
    colleague = MembershipFactory(tenant=tenant, role="manager")
    make_view(colleague, "Debtors")
    assert len(views()) == 2


def test_a_viewer_saves_for_themself_but_may_not_share(client, tenant, login_as):
    login_as(tenant, "viewer")
    response = save(client, shared="on")
    assert response.status_code == 400
    assert "does not share" in response.context["form"].errors["shared"][0]
    assert views() == []
    assert save(client).status_code == 302
    assert not views()[0].shared


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_owners_and_managers_share_with_the_tenant(client, tenant, login_as, role):
    login_as(tenant, role)
    assert save(client, name="Team view", shared="on").status_code == 302
    [view] = views()
    assert view.shared
    login_as(tenant, "viewer")
    page = client.get(LIST)
    assert [v.name for v in page.context["saved_views"]] == ["Team view"]
    assert not page.context["saved_views"][0].removable
    assert client.get(view.get_absolute_url()).status_code == 302


def test_someone_elses_private_view_is_404(client, tenant, owner):
    colleague = MembershipFactory(tenant=tenant, role="manager")
    private = make_view(colleague, "Private")
    assert client.get(private.get_absolute_url()).status_code == 404
    delete = reverse("tenancy:saved_view_delete", kwargs={"pk": private.pk})
    assert client.post(delete).status_code == 404
    assert client.get(LIST).context["saved_views"] == []
    assert len(views()) == 1


def test_another_tenants_view_is_404_even_when_shared(client, tenant, other_tenant, owner):
    stranger = MembershipFactory(tenant=other_tenant, role="owner")
    foreign = make_view(stranger, "Theirs", shared=True)
    assert client.get(foreign.get_absolute_url()).status_code == 404
    delete = reverse("tenancy:saved_view_delete", kwargs={"pk": foreign.pk})
    assert client.post(delete).status_code == 404
    assert client.get(f"{LIST}?view={foreign.pk}").context["saved_view"] is None
    assert len(views()) == 1


def test_the_owner_of_a_view_removes_it(client, tenant, login_as):
    me = login_as(tenant, "viewer")
    view = make_view(me, "Mine")
    delete = reverse("tenancy:saved_view_delete", kwargs={"pk": view.pk})
    response = client.post(delete, {"next": LIST})
    assert response.status_code == 302 and response["Location"] == LIST
    assert views() == []


def test_a_shared_view_is_removed_by_its_owner_or_an_owner_of_the_tenant(client, tenant, login_as):
    sharer = MembershipFactory(tenant=tenant, role="manager")
    view = make_view(sharer, "Shared", shared=True)
    delete = reverse("tenancy:saved_view_delete", kwargs={"pk": view.pk})
    login_as(tenant, "manager")
    assert client.post(delete).status_code == 403
    assert len(views()) == 1
    login_as(tenant, "owner")
    assert client.get(LIST).context["saved_views"][0].removable
    assert client.post(delete).status_code == 302
    assert views() == []


def test_the_service_refuses_removal_by_another_operator(tenant):
    sharer = MembershipFactory(tenant=tenant, role="owner")
    view = make_view(sharer, "Private")
    with pytest.raises(PermissionDenied), scopes_disabled():
        saved_view_delete(view=view, actor=MembershipFactory(tenant=tenant, role="owner"))


def test_a_list_the_operator_may_not_see_is_not_saved(client, tenant, login_as):
    login_as(tenant, "viewer")
    response = client.post(
        reverse("tenancy:saved_view_create"),
        {"name": "Operators", "list_path": reverse("tenancy:operator_list"), "list_query": ""},
    )
    assert response.status_code == 403
    for path in ("/nowhere/", "/login/", "https://example.com/clients/"):
        response = client.post(
            reverse("tenancy:saved_view_create"),
            {"name": "Else", "list_path": path, "list_query": ""},
        )
        assert response.status_code == 404, path
    assert views() == []


def test_every_list_page_offers_its_saved_views(client, tenant, owner):
    view = SavedView.objects.for_tenant(tenant).create(
        tenant=tenant, owner=owner, list_name="tenancy:operator_list", name="Admins"
    )
    html = client.get(reverse("tenancy:operator_list")).content.decode()
    assert 'data-testid="saved-views"' in html and view.get_absolute_url() in html
    assert view.get_absolute_url() not in client.get(LIST).content.decode()


def test_the_list_reads_its_saved_views_in_one_query(client, tenant, owner):
    ClientFactory.create_batch(3, tenant=tenant)
    client.get(LIST)  # warm the session and caches

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    without = count()
    for index in range(5):
        make_view(MembershipFactory(tenant=tenant, role="manager"), f"V{index}", shared=True)
    assert count() == without == 7  # session, user, membership, views, count, types, rows
    first = views()[0].pk
    with CaptureQueriesContext(connection) as queries:
        opened = client.get(f"{LIST}?view={first}")
    count_with_view = len(queries)
    assert opened.context["saved_view"] is not None and count_with_view == without

"""Bulk actions of the client list: the selection (ticked rows, or all matching a filter,
evaluated again in the tenant's scope), each action through its single action's rules, a
refusal per client, an event per client, roles, inline or as a job that survives a kill."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from clients.bulk import CHUNK_SIZE, client_bulk_action_execute
from clients.models import BulkActionStatus, Client, ClientBulkAction, ClientStatus
from core.stored_text import literal_text
from events.models import Event
from exports.lists import LIST_EXPORT_KIND
from exports.models import ExportJob
from exports.services import export_job_execute
from holds.models import ClientHold, HoldKind
from holds.services import (
    client_place_hold,
    clients_place_hold,
    clients_release_hold,
)
from subscriptions.models import SubscriptionStatus
from tests.factories import (
    ClientFactory,
    ClientGroupFactory,
    SubscriptionFactory,
    make_clients,
)
from tests.helpers import assert_other_tenant_gives_404, assert_role_refused

BULK_URL = "/clients/bulk/"


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


def post_bulk(client, action, *, ids=None, query=None, confirm=True, query_of_list="", **fields):
    """Post the bar's form: the ids ticked, or (`query`) all matching the list's query."""
    data = {"action": action, **fields}
    if query is not None:
        data.update(scope="all", query=query)
    else:
        data.update(scope="ticked", client=list(ids or []), query=query_of_list)
    if confirm:
        data["confirm"] = "1"
    return client.post(BULK_URL, data)


def latest_job(tenant) -> ClientBulkAction:
    with scopes_disabled():
        return ClientBulkAction.objects.filter(tenant=tenant).latest("pk")


def holds_of(client_ids, kind=HoldKind.ADMINISTRATIVE):
    with scopes_disabled():
        return ClientHold.objects.filter(
            client_id__in=list(client_ids), kind=kind, lifted_at__isnull=True
        )


def events_of(type_, client_ids):
    with scopes_disabled():
        return Event.objects.filter(type=type_, client_id__in=list(client_ids))


def run_job(job, **kwargs):
    with scopes_disabled():
        job = ClientBulkAction.objects.select_related("tenant").get(pk=job.pk)
    with scope(tenant=job.tenant):
        return client_bulk_action_execute(job=job, **kwargs)


# -- select all over a filter of 10,000 --------------------------------------------------------
def test_select_all_over_a_filter_of_10000_clients_holds_each_one_with_its_event(
    client, owner, tenant, unscoped
):
    group = ClientGroupFactory(tenant=tenant, name="Resellers")
    chosen = make_clients(tenant, 10_000, group=group)
    others = make_clients(tenant, 5)
    response = post_bulk(
        client, "hold_place", query=f"group={group.pk}&sort=name", reason="Audit of resellers"
    )
    job = latest_job(tenant)
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.status == BulkActionStatus.QUEUED and job.total == 10_000  # more than a page
    job = run_job(job)
    assert job.status == BulkActionStatus.DONE
    assert (job.done, job.unchanged, job.refused) == (10_000, 0, [])
    assert set(holds_of(chosen).values_list("client_id", flat=True)) == set(chosen)
    assert not holds_of(others).exists()
    assert (
        Client.objects.filter(pk__in=chosen, status=ClientStatus.ADMINISTRATIVE_HOLD).count()
        == 10_000
    )
    placed = events_of("hold.placed", chosen)
    assert placed.count() == 10_000
    assert set(placed.values_list("actor_id", flat=True)) == {owner.user_id}
    assert set(placed.values_list("client_id", flat=True)) == set(chosen)
    page = client.get(job.get_absolute_url())
    assert page.status_code == 200
    assert 'data-testid="bulk-done">10,000<' in page.content.decode()


def test_a_selection_of_one_page_runs_inline(client, owner, tenant, unscoped):
    ids = make_clients(tenant, 3)
    response = post_bulk(client, "hold_place", ids=ids, reason="Fraud check")
    job = latest_job(tenant)
    assert response["Location"] == job.get_absolute_url()
    assert job.status == BulkActionStatus.DONE and job.done == 3
    assert holds_of(ids).count() == 3


# -- refusals, per client -----------------------------------------------------------------------
def test_each_refused_client_is_listed_with_the_single_actions_reason(
    client, owner, tenant, unscoped
):
    fine, held, gone = (ClientFactory(tenant=tenant) for _ in range(3))
    client_place_hold(tenant=tenant, client=held, reason=literal_text("Earlier"), actor=owner.user)
    Client.objects.filter(pk=gone.pk).update(status=ClientStatus.DELETED)
    post_bulk(client, "hold_place", ids=[fine.pk, held.pk, gone.pk], reason="Checking")
    job = latest_job(tenant)
    assert job.done == 1
    reasons = {row["number"]: row["reason"] for row in job.refused}
    assert reasons == {  # stored as messages, read in the reader's language
        held.number: {"msgid": "The client is already on administrative hold."},
        gone.number: {"msgid": "A deleted client cannot be put on hold."},
    }
    html = client.get(job.get_absolute_url()).content.decode()
    assert 'data-testid="bulk-refused">2<' in html
    assert "The client is already on administrative hold." in html
    assert f'data-client="{gone.number}"' in html
    russian = client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "На клиенте уже стоит административная блокировка." in russian


def test_a_refusal_stored_before_messages_is_still_translated(client, owner, tenant, unscoped):
    held = ClientFactory(tenant=tenant)
    client_place_hold(tenant=tenant, client=held, reason=literal_text("Earlier"), actor=owner.user)
    post_bulk(client, "hold_place", ids=[held.pk], reason="Checking")
    job = latest_job(tenant)
    job.refused = [{**job.refused[0], "reason": "The client is already on administrative hold."}]
    job.save(update_fields=["refused"])
    russian = client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "На клиенте уже стоит административная блокировка." in russian


def test_release_refuses_clients_not_on_hold_and_releases_the_others(
    client, owner, tenant, unscoped
):
    held, free = ClientFactory(tenant=tenant), ClientFactory(tenant=tenant)
    client_place_hold(tenant=tenant, client=held, reason=literal_text("Earlier"), actor=owner.user)
    post_bulk(client, "hold_release", ids=[held.pk, free.pk], reason="Paid")
    job = latest_job(tenant)
    assert job.done == 1
    assert job.refused == [
        {
            "id": free.pk,
            "number": free.number,
            "name": free.name,
            "reason": {"msgid": "The client is not on administrative hold."},
        }
    ]
    assert not holds_of([held.pk]).exists()
    held.refresh_from_db()
    assert held.status == ClientStatus.ACTIVE
    released = events_of("hold.released", [held.pk]).get()
    assert released.actor_id == owner.user_id and "Paid" in str(released.description)


def test_bulk_delete_refuses_a_client_with_a_live_subscription(client, owner, tenant, unscoped):
    subscribed, plain = ClientFactory(tenant=tenant), ClientFactory(tenant=tenant)
    SubscriptionFactory(tenant=tenant, client=subscribed, status=SubscriptionStatus.ACTIVE)
    post_bulk(client, "delete", ids=[subscribed.pk, plain.pk], comment="Moved away")
    job = latest_job(tenant)
    assert job.done == 1
    assert job.refused[0]["number"] == subscribed.number
    assert job.refused[0]["reason"]["msgid"].startswith("The client has an active subscription")
    plain.refresh_from_db()
    subscribed.refresh_from_db()
    assert plain.status == ClientStatus.DELETED and subscribed.status == ClientStatus.ACTIVE
    deleted = events_of("client.deleted", [plain.pk]).get()
    assert str(deleted.description) == "Client deleted: Moved away"
    assert not events_of("client.deleted", [subscribed.pk]).exists()


def test_change_client_type_records_each_change_and_leaves_the_unchanged(
    client, owner, tenant, unscoped
):
    old, new = ClientGroupFactory(tenant=tenant, name="Old"), ClientGroupFactory(tenant=tenant)
    moved = ClientFactory(tenant=tenant, group=old)
    already = ClientFactory(tenant=tenant, group=new)
    post_bulk(client, "change_group", ids=[moved.pk, already.pk], group=new.pk)
    job = latest_job(tenant)
    assert (job.done, job.unchanged, job.refused) == (1, 1, [])
    moved.refresh_from_db()
    assert moved.group_id == new.pk
    line = events_of("client.updated", [moved.pk]).get()
    assert str(line.description) == f"Client type: Old → {new.name}"
    assert line.payload["fields"] == ["group"]
    assert not events_of("client.updated", [already.pk]).exists()


def test_another_tenants_client_type_is_refused_at_its_field(
    client, owner, tenant, other_tenant, unscoped
):
    mine = ClientFactory(tenant=tenant)
    foreign = ClientGroupFactory(tenant=other_tenant)
    response = post_bulk(client, "change_group", ids=[mine.pk], group=foreign.pk)
    assert response.status_code == 400
    assert response.context["form"].errors["group"]
    assert not ClientBulkAction.objects.exists()
    mine.refresh_from_db()
    assert mine.group_id is None


# -- tenancy and roles ------------------------------------------------------------------------
def test_another_tenants_ids_in_the_selection_are_ignored(
    client, owner, tenant, other_tenant, unscoped
):
    mine = ClientFactory(tenant=tenant)
    theirs = [ClientFactory(tenant=other_tenant) for _ in range(2)]
    post_bulk(client, "hold_place", ids=[mine.pk, *(c.pk for c in theirs)], reason="Check")
    job = latest_job(tenant)
    assert (job.total, job.done, job.refused) == (1, 1, [])
    assert holds_of([mine.pk]).count() == 1
    ids = [c.pk for c in theirs]
    assert not holds_of(ids).exists()
    assert not Event.objects.filter(client_id__in=ids).exists()
    assert set(Client.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"active"}


def test_another_tenants_result_page_is_a_404(client, owner, other_tenant, login_as, unscoped):
    theirs = ClientBulkAction.objects.create(tenant=other_tenant, action="delete", title="x")
    assert_other_tenant_gives_404(client, theirs.get_absolute_url())


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        ("viewer", "hold_place", False),
        ("viewer", "export", False),
        ("accountant", "hold_place", False),
        ("accountant", "change_group", False),
        ("accountant", "delete", False),
        ("accountant", "export", True),
        ("manager", "hold_place", True),
        ("manager", "delete", True),
    ],
)
def test_a_role_is_refused_the_bulk_action_as_the_single_one(
    client, login_as, tenant, role, action, allowed, unscoped, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    login_as(tenant, role)
    target = ClientFactory(tenant=tenant)
    data = {"reason": "Checking"}
    if not allowed:
        assert_role_refused(
            client,
            BULK_URL,
            "post",
            {"action": action, "scope": "ticked", "client": [target.pk], "confirm": "1", **data},
        )
        assert not ClientHold.objects.exists() and not ClientBulkAction.objects.exists()
        assert not ExportJob.objects.exists()
        return
    response = post_bulk(client, action, ids=[target.pk], **data)
    assert response.status_code == 302


def test_a_viewer_sees_no_tick_boxes_and_an_owner_does(client, login_as, tenant, unscoped):
    ClientFactory(tenant=tenant)
    login_as(tenant, "viewer")
    html = client.get("/clients/").content.decode()
    assert "data-bulk-row" not in html and 'data-testid="bulk-bar"' not in html
    login_as(tenant, "owner")
    html = client.get("/clients/").content.decode()
    assert "data-bulk-row" in html and 'data-testid="bulk-bar"' in html


def test_the_job_checks_the_creators_right_again(client, owner, tenant, unscoped):
    ids = make_clients(tenant, 30)
    client.get("/clients/")
    post_bulk(client, "hold_place", query="per_page=10", reason="Check")
    job = latest_job(tenant)
    assert job.status == BulkActionStatus.QUEUED
    owner.role = "viewer"
    owner.save(update_fields=["role"])
    job = run_job(job)
    assert job.status == BulkActionStatus.FAILED
    assert "may no longer do it" in str(job.error)
    assert not holds_of(ids).exists()


# -- the confirmation step and bad input ---------------------------------------------------------
def test_the_confirmation_step_counts_the_selection_and_asks_for_the_reason(
    client, owner, tenant, unscoped
):
    ids = make_clients(tenant, 4)
    response = post_bulk(client, "hold_place", ids=ids, confirm=False)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>4</strong> clients" in html and 'name="reason"' in html
    response = post_bulk(client, "hold_place", ids=ids, reason="   ")
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["Give a reason."]
    response = post_bulk(client, "hold_place", ids=ids, reason="x" * 501)
    assert response.status_code == 400 and response.context["form"].errors["reason"]
    assert not ClientHold.objects.exists() and not ClientBulkAction.objects.exists()


@pytest.mark.parametrize("ids", [[], ["abc"], ["1e9999"], ["-4"], [str(n) for n in range(1, 102)]])
def test_a_bad_selection_is_refused_at_its_field(client, owner, tenant, ids, unscoped):
    response = client.post(
        BULK_URL,
        {"action": "hold_place", "scope": "ticked", "client": ids, "reason": "x", "confirm": "1"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["client"]
    assert not ClientBulkAction.objects.exists()


def test_an_unknown_action_is_refused(client, owner, tenant, unscoped):
    target = ClientFactory(tenant=tenant)
    response = post_bulk(client, "launch_rockets", ids=[target.pk])
    assert response.status_code == 400
    assert response.context["form"].errors["action"]


# -- chunks: bounded queries, kills and reruns ---------------------------------------------------
def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


@pytest.mark.parametrize("service", ["place", "release", "group", "delete"])
def test_the_queries_of_a_chunk_do_not_grow_with_its_size(owner, tenant, service, unscoped):
    from clients.services import clients_change_group, clients_delete

    group = ClientGroupFactory(tenant=tenant)
    small, large = make_clients(tenant, 10), make_clients(tenant, 200)
    for ids in (small, large):
        first = Client.objects.get(pk=ids[0])
        SubscriptionFactory(tenant=tenant, client=first, status=SubscriptionStatus.ACTIVE)
        if service == "release":
            clients_place_hold(
                tenant=tenant, actor=owner.user, client_ids=ids, reason=literal_text("Before")
            )

    def run(ids):
        kwargs = {"tenant": tenant, "actor": owner.user, "client_ids": ids}
        if service == "place":
            return lambda: clients_place_hold(**kwargs, reason=literal_text("Audit"))
        if service == "release":
            return lambda: clients_release_hold(**kwargs, reason=literal_text("Done"))
        if service == "group":
            return lambda: clients_change_group(**kwargs, group=group)
        return lambda: clients_delete(**kwargs)

    with scope(tenant=tenant):
        assert _queries(run(small)) == _queries(run(large))


class Killed(BaseException):
    """What a worker killed with -9 does to its work: it stops where it is (not an Exception,
    so nothing catches it and marks the job failed)."""


def test_a_job_killed_mid_way_and_run_again_gives_the_result_of_one_run(
    client, owner, tenant, monkeypatch, unscoped
):
    ids = make_clients(tenant, 250)
    post_bulk(client, "hold_place", query="", reason="Quarterly audit")
    job = latest_job(tenant)
    assert job.total == 250 and job.status == BulkActionStatus.QUEUED

    import clients.bulk as bulk

    record = bulk._record_chunk
    chunks = []

    def killed_after_two(*args, **kwargs):
        if len(chunks) == 2:
            raise Killed
        record(*args, **kwargs)
        chunks.append(args[2])

    monkeypatch.setattr(bulk, "_record_chunk", killed_after_two)
    with pytest.raises(Killed):
        run_job(job, chunk_size=100)
    job.refresh_from_db()
    assert job.status == BulkActionStatus.RUNNING and job.done == 200
    assert holds_of(ids).count() == 200  # the third chunk rolled back
    monkeypatch.setattr(bulk, "_record_chunk", record)

    assert run_job(job, chunk_size=100).status == BulkActionStatus.RUNNING  # lease still held
    ClientBulkAction.objects.filter(pk=job.pk).update(
        lease_expires_at=job.lease_expires_at - timedelta(hours=1)
    )
    job = run_job(job, chunk_size=100)
    assert job.status == BulkActionStatus.DONE and job.attempts == 2
    assert (job.done, job.refused) == (250, [])
    assert holds_of(ids).count() == 250
    assert events_of("hold.placed", ids).count() == 250
    again = run_job(job, chunk_size=100)  # a redelivered task: finished, nothing to do
    assert again.done == 250 and events_of("hold.placed", ids).count() == 250


def test_chunks_hold_the_selection_in_id_order(client, owner, tenant, unscoped):
    assert CHUNK_SIZE >= 100  # a chunk is at least one page of the list
    ids = make_clients(tenant, 25)
    post_bulk(client, "hold_place", query="per_page=10", reason="Check")
    job = run_job(latest_job(tenant), chunk_size=10)
    assert job.done == 25 and job.last_client_id == max(ids)


# -- export -----------------------------------------------------------------------------------
def export_of_selection(client, tenant, **selection) -> tuple[ExportJob, list[tuple]]:
    """Post the bar's Export for the selection, run its job; the job and the file's rows."""
    response = post_bulk(client, "export", **selection)
    job = ExportJob.objects.filter(tenant=tenant).latest("pk")
    assert response["Location"] == reverse("exports:export_detail", kwargs={"pk": job.pk})
    assert job.kind == LIST_EXPORT_KIND  # the list's own export, not one of its own
    job = ExportJob.objects.select_related("tenant").get(pk=job.pk)
    with scope(tenant=tenant):
        job = export_job_execute(job=job)
    assert job.status == "done", job.error
    with job.file.open("rb") as handle:
        return job, list(load_workbook(handle, read_only=True).active.values)


def choose_columns(client, columns):
    client.post(
        reverse("tenancy:table_preferences", kwargs={"table_name": "ClientTable"}),
        {"columns": columns, "save_columns": "1"},
    )


def shown_headers(client, query) -> tuple[str, ...]:
    table = client.get("/clients/?" + query).context["table"]
    return tuple(field.header for field in table.export_fields())


def test_export_of_all_matching_has_the_lists_columns_and_order(
    client, owner, tenant, settings, tmp_path, unscoped
):
    settings.MEDIA_ROOT = tmp_path
    group = ClientGroupFactory(tenant=tenant)
    chosen = make_clients(tenant, 12, group=group)
    make_clients(tenant, 3)
    choose_columns(client, ["number", "login", "group"])
    query = f"group={group.pk}&sort=-number&page=2"
    job, rows = export_of_selection(client, tenant, query=query)
    assert rows[0] == shown_headers(client, query) and "Login" in rows[0]
    assert "E-mail" not in rows[0]  # a column the operator hid
    number = rows[0].index("ID")
    numbers = Client.objects.filter(pk__in=chosen).values_list("number", flat=True)
    assert [row[number] for row in rows[1:]] == sorted(numbers, reverse=True)  # every page
    assert job.total == 12


def test_export_of_the_ticked_clients_is_those_the_list_still_shows(
    client, owner, tenant, other_tenant, settings, tmp_path, unscoped
):
    settings.MEDIA_ROOT = tmp_path
    ids = make_clients(tenant, 6)
    Client.objects.filter(pk=ids[0]).update(status=ClientStatus.DELETED)  # hidden by the list
    theirs = ClientFactory(tenant=other_tenant)
    choose_columns(client, ["number", "email"])
    ticked = [ids[0], ids[2], ids[3], ids[5], theirs.pk]
    job, rows = export_of_selection(client, tenant, ids=ticked, query_of_list="sort=number")
    assert rows[0] == shown_headers(client, "sort=number") and "E-mail" in rows[0]
    number = rows[0].index("ID")
    expected = Client.objects.filter(pk__in=ids[2:4] + ids[5:]).order_by("number")
    assert [row[number] for row in rows[1:]] == list(expected.values_list("number", flat=True))
    assert job.total == 3


# -- pages ------------------------------------------------------------------------------------
def test_the_list_offers_the_bar_with_the_filters_count_and_query(client, owner, tenant, unscoped):
    group = ClientGroupFactory(tenant=tenant)
    make_clients(tenant, 7, group=group)
    make_clients(tenant, 2)
    response = client.get("/clients/", {"group": group.pk})
    html = response.content.decode()
    assert 'data-testid="bulk-matching">7<' in html
    assert f'name="query" value="group={group.pk}"' in html
    fragment = client.get(
        "/clients/", {"group": group.pk}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table-region"
    )
    assert 'id="client-bulk-form"' in fragment.content.decode()
    assert 'hx-swap-oob="true"' in fragment.content.decode()


def test_the_result_page_has_a_fixed_number_of_queries(
    client, owner, tenant, django_assert_num_queries, unscoped
):
    ids = make_clients(tenant, 40)
    Client.objects.filter(pk__in=ids[:20]).update(status=ClientStatus.DELETED)
    post_bulk(client, "hold_place", ids=ids, reason="Check", query_of_list="per_page=50")
    job = latest_job(tenant)
    assert job.status == BulkActionStatus.DONE and len(job.refused) == 20
    client.get(job.get_absolute_url())
    with django_assert_num_queries(4):  # session, operator, membership, the action
        response = client.get(job.get_absolute_url())
    assert response.status_code == 200
    progress = client.get(job.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert 'id="bulk-action-progress"' in progress.content.decode()

"""Adopting the secrets already on a router, against the simulator over TCP: which secrets are
listed and what each would become, the confirmation, adoption twice, the secret on the router
left byte for byte as it was, and Clientdesk managing it from then on (holds, audits)."""

import copy
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django_scopes import scopes_disabled

from clients.models import Client, ClientStatus
from core.leases import LeaseLost, lease_claim
from core.stored_text import literal_text
from events.models import Event
from routers import services
from routers.forms import SELECTION_REFUSED, adoption_selection_sign
from routers.models import PppoeAccount, RouterAdoption, SyncState, secret_comment
from routers.poller import poll_routers
from routers.routeros import RouterConnection, RouterTarget
from routers.selectors import foreign_secrets, router_secrets_read
from routers.services import (
    ADOPTION_CHUNK,
    AdoptionRunning,
    router_adoption_execute,
    router_adoption_start,
)
from tests.factories import (
    ClientFactory,
    PppoeAccountFactory,
    RouterFactory,
    SubscriptionFactory,
)
from tests.helpers import assert_other_tenant_gives_404, assert_role_refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant, sim, router_for, django_capture_on_commit_callbacks):
    """A router with one secret of Clientdesk's own and a mix of foreign ones: three that match
    clients (by username, login and comment), one for a new client (disabled), and three that
    are refused (a name that is an account on another router, a service that is not PPPoE, a
    comment naming a client that already has an account)."""
    router = router_for(sim, name="Edge")
    with scopes_disabled():
        own = PppoeAccountFactory(
            tenant=tenant, router=router, username="own-1", sync_state="pending"
        )
    poll_routers()  # provisions own-1 with Clientdesk's mark
    assert sim.secret("own-1")["comment"] == secret_comment(own.pk)
    by_ref = ClientFactory(tenant=tenant, name="Ref Holder", external_ref="sub-1001")
    by_login = ClientFactory(tenant=tenant, name="Phone Person", login="+4930123456")
    by_comment = ClientFactory(tenant=tenant, name="Maria Lopez")
    with scopes_disabled():
        elsewhere = PppoeAccountFactory(
            tenant=tenant, router=RouterFactory(tenant=tenant, name="Other"), username="bob"
        )
        equipped = PppoeAccountFactory(tenant=tenant, router=elsewhere.router, username="carl-2")
    sim.add_secret("sub-1001", "pw-ref", profile="10M", comment="first floor")
    sim.add_secret("4930123456", "pw-login", profile="20M")
    sim.add_secret("mlopez", "pw-comment", profile="30M", comment="maria lopez")
    sim.add_secret("newguy", "pw-new", profile="40M", comment="New Guy", disabled="yes")
    sim.add_secret("bob", "pw-bob", service="pppoe")
    sim.add_secret("vpn-user", "pw-vpn", service="l2tp")
    sim.add_secret("carl", "pw-carl", comment=str(equipped.client.number))
    return {
        "router": router,
        "own": own,
        "by_ref": by_ref,
        "by_login": by_login,
        "by_comment": by_comment,
        "equipped": equipped.client,
    }


def read_back(sim) -> list[dict]:
    """Every secret with every field, read over the API as librouteros sees it."""
    router = RouterFactory.build(host=sim.host, port=sim.port, username="admin", timeout=2)
    router.set_password(sim.password)
    with RouterConnection(RouterTarget.of(router)) as conn:
        return sorted(conn.call("/ppp/secret/print"), key=lambda row: row[".id"])


def accounts():
    with scopes_disabled():
        return {a.username: a for a in PppoeAccount.objects.select_related("client").order_by("pk")}


def foreign_ids(tenant, router) -> list[str]:
    """The ids of every secret on the router that no account owns, as the review lists them."""
    with scopes_disabled():
        return [s.secret_id for s in foreign_secrets(tenant, router, router_secrets_read(router))]


def start_adoption(tenant, router, owner_user=None, secret_ids=None):
    """The adoption confirmed, not yet run."""
    if secret_ids is None:
        secret_ids = foreign_ids(tenant, router)
    with scopes_disabled():
        return router_adoption_start(
            tenant=tenant, router=router, actor=owner_user, secret_ids=secret_ids
        )


def run_adoption(job, chunk_size=ADOPTION_CHUNK):
    """The worker's part of an adoption."""
    with scopes_disabled():
        return router_adoption_execute(job=job, chunk_size=chunk_size)


def adopt(tenant, router, owner_user=None, secret_ids=None, chunk_size=ADOPTION_CHUNK):
    """An adoption confirmed and run to its end."""
    job = run_adoption(start_adoption(tenant, router, owner_user, secret_ids), chunk_size)
    assert job.status == "done", job.error
    return job


def state():
    with scopes_disabled():
        return (
            sorted(
                PppoeAccount.objects.values_list(
                    "username", "client_id", "router_secret_id", "enabled", "sync_state"
                )
            ),
            Client.objects.count(),
            Event.objects.count(),
        )


def test_the_page_lists_only_foreign_secrets_with_their_proposed_clients(client, owner, world):
    response = client.get(reverse("routers:router_adopt", kwargs={"pk": world["router"].pk}))
    assert response.status_code == 200
    proposals = {p.secret.name: p for p in response.context["proposals"]}
    assert "own-1" not in proposals  # Clientdesk's own, by its mark
    assert proposals["sub-1001"].client == world["by_ref"]
    assert proposals["sub-1001"].matched_by_label == "username"
    assert proposals["4930123456"].client == world["by_login"]
    assert proposals["4930123456"].matched_by_label == "login"
    assert proposals["mlopez"].client == world["by_comment"]
    assert proposals["mlopez"].matched_by_label == "comment"
    assert proposals["newguy"].client is None and proposals["newguy"].adoptable
    assert "already the PPPoE account of client" in str(proposals["bob"].refused)
    assert "l2tp, not PPPoE" in str(proposals["vpn-user"].refused)
    assert "already has the PPPoE account “carl-2”" in str(proposals["carl"].refused)
    body = response.content.decode()
    assert "New client “New Guy”" in body and "(by comment)" in body
    assert body.count('name="secret"') == 4  # only the adoptable ones can be ticked
    assert "pw-" not in body  # the secrets' passwords are read, never shown


def test_adoption_makes_accounts_and_leaves_the_router_byte_for_byte_unchanged(
    sim, tenant, owner, world
):
    before = read_back(sim)
    kept = copy.deepcopy(sim.secrets)
    commands = len(sim.commands)
    result = adopt(tenant, world["router"], owner.user)

    assert sorted(name for name, _ in result.adopted) == [
        "4930123456",
        "mlopez",
        "newguy",
        "sub-1001",
    ]
    assert result.clients_created == 1
    assert sorted(name for name, _ in result.refused) == ["bob", "carl", "vpn-user"]
    assert read_back(sim) == before and sim.secrets == kept
    written = [c for c in sim.commands[commands:] if not c.endswith(("/print", "/login"))]
    assert written == []

    adopted = accounts()
    assert adopted["sub-1001"].client == world["by_ref"]
    assert adopted["4930123456"].client == world["by_login"]
    assert adopted["mlopez"].client == world["by_comment"]
    for name, profile in (("sub-1001", "10M"), ("4930123456", "20M"), ("newguy", "40M")):
        account = adopted[name]
        assert account.profile == profile and account.sync_state == SyncState.SYNCED
        assert account.router_secret_id == sim.secret(name)[".id"]
        assert account.password == sim.secret(name)["password"]
    new = adopted["newguy"]
    assert not new.enabled and new.disabled_reason == "disabled_on_router"
    assert new.client.name == "New Guy" and new.client.number > 0
    with scopes_disabled():
        assert hasattr(new.client, "account")  # the billing account every client gets
        types = list(Event.objects.filter(client_id=new.client_id).values_list("type", flat=True))
        adopted_events = Event.objects.filter(type="pppoe_account.adopted")
        assert adopted_events.count() == 4
        assert {e.actor_id for e in adopted_events} == {owner.user.pk}
    assert sorted(types) == ["client.created", "pppoe_account.adopted"]


def test_adopting_twice_gives_the_same_state(sim, tenant, owner, world):
    adopt(tenant, world["router"], owner.user)
    once = state()
    again = adopt(tenant, world["router"], owner.user)
    assert again.adopted == [] and again.clients_created == 0
    assert state() == once
    # Confirming the same selection again, too: the secrets are no longer foreign.
    ids = [row[".id"] for row in read_back(sim)]
    repeat = adopt(tenant, world["router"], owner.user, secret_ids=ids)
    assert repeat.adopted == [] and state() == once


def test_only_the_confirmed_secrets_are_adopted(sim, tenant, owner, world):
    result = adopt(tenant, world["router"], owner.user, secret_ids=[sim.secret("mlopez")[".id"]])
    assert [name for name, _ in result.adopted] == ["mlopez"]
    assert set(accounts()) == {"own-1", "bob", "carl-2", "mlopez"}


def test_adopted_secrets_are_managed_like_clientdesks_own(
    sim, tenant, owner, world, django_capture_on_commit_callbacks
):
    from holds.services import client_place_hold, client_release_hold

    # Access after a hold needs a live subscription, as for every client.
    SubscriptionFactory(tenant=tenant, client=world["by_ref"])
    adopt(tenant, world["router"], owner.user)
    comment = sim.secret("sub-1001")["comment"]
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        client_place_hold(
            tenant=tenant, client=world["by_ref"], reason=literal_text("Unpaid"), actor=owner.user
        )
    secret = sim.secret("sub-1001")
    assert secret["disabled"] == "true" and secret["comment"] == comment
    assert secret["password"] == "pw-ref"  # the router's own password, written back as it was
    with scopes_disabled(), django_capture_on_commit_callbacks(execute=True):
        client_release_hold(
            tenant=tenant, client=world["by_ref"], reason=literal_text("Paid"), actor=owner.user
        )
    assert sim.secret("sub-1001")["disabled"] == "false"
    # A full audit neither removes an adopted secret nor reports it as someone else's.
    with scopes_disabled():
        type(world["router"]).objects.filter(pk=world["router"].pk).update(audit_due=True)
    poll_routers()
    assert sim.secret("sub-1001") is not None and sim.secret("newguy")["disabled"] == "true"
    assert {str(a.sync_error) for a in accounts().values()} == {""}
    assert {a.sync_state for a in accounts().values()} == {SyncState.SYNCED}


def test_an_adopted_secret_replaced_on_the_router_is_never_taken_over(sim, tenant, owner, world):
    adopt(tenant, world["router"], owner.user, secret_ids=[sim.secret("mlopez")[".id"]])
    sim.secrets.pop(sim.secret("mlopez")[".id"])
    sim.add_secret("mlopez", "someone-elses", comment="not ours")
    with scopes_disabled():
        PppoeAccount.objects.filter(username="mlopez").update(sync_state="pending")
    poll_routers()
    assert sim.secret("mlopez")["password"] == "someone-elses"
    assert "was not created by Clientdesk" in str(accounts()["mlopez"].sync_error)


def test_a_client_matched_by_two_secrets_is_given_to_the_first(sim, tenant, router_for):
    router = router_for(sim)
    customer = ClientFactory(tenant=tenant, name="Twice", external_ref="dup")
    sim.add_secret("dup", "a")
    sim.add_secret("other", "b", comment="twice")
    result = adopt(tenant, router)
    assert result.adopted == [["dup", customer.number]]
    assert result.refusals == [
        ("other", f"Client #{customer.number} is taken by the secret “dup”.")
    ]


def test_several_clients_matching_is_refused(sim, tenant, router_for):
    router = router_for(sim)
    ClientFactory(tenant=tenant, name="Same Name")
    ClientFactory(tenant=tenant, name="Same Name")
    sim.add_secret("same", "a", comment="Same Name")
    result = adopt(tenant, router)
    assert result.adopted == [] and "matches several clients" in result.refusals[0][1]


def test_another_tenants_clients_and_accounts_are_never_matched(
    sim, tenant, other_tenant, router_for
):
    router = router_for(sim)
    theirs = ClientFactory(tenant=other_tenant, name="Their Client", external_ref="t-1")
    with scopes_disabled():
        PppoeAccountFactory(tenant=other_tenant, username="taken-there")
    sim.add_secret("t-1", "a", comment="Their Client")
    sim.add_secret("taken-there", "b")
    result = adopt(tenant, router)
    assert result.clients_created == 2 and result.refused == []
    with scopes_disabled():
        assert not PppoeAccount.objects.filter(client=theirs).exists()
        assert {a.client.tenant_id for a in PppoeAccount.objects.filter(router=router)} == {
            tenant.pk
        }


def test_adoption_in_chunks_adopts_every_secret_once(sim, tenant, router_for):
    router = router_for(sim)
    for n in range(25):
        sim.add_secret(f"chunked-{n:02d}", "pw")
    result = adopt(tenant, router, chunk_size=4)
    assert len(result.adopted) == 25 and result.clients_created == 25
    with scopes_disabled():
        assert PppoeAccount.objects.filter(router=router).count() == 25


# -- the page ----------------------------------------------------------------------------------
def adopt_url(router) -> str:
    return reverse("routers:router_adopt", kwargs={"pk": router.pk})


@pytest.fixture
def confirm(client, django_capture_on_commit_callbacks):
    """confirm(url, data) -> the adoption's page once its job ran (queued after the commit,
    run eagerly), reached by the redirect the confirmation answers with."""

    def post(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:500]
        page = client.get(response.url)
        assert page.status_code == 200
        return page

    return post


def review(client, url, data):
    """The review step of a selection, and the confirmation it leads to."""
    page = client.post(url, data)
    assert page.status_code == 200, page.content.decode()[:500]
    return page, {"selection": page.context["selection"], "confirm": "on"}


def test_nothing_is_adopted_before_the_confirmation(client, owner, sim, world, confirm):
    url = adopt_url(world["router"])
    before = state()
    chosen = [sim.secret("mlopez")[".id"], sim.secret("newguy")[".id"]]
    page, confirmation = review(client, url, {"secret": chosen})
    assert state() == before
    body = page.content.decode()
    assert (
        "2 secrets will be adopted: 1 as a new client, 1 as the PPPoE account of the client shown."
        in body
    )
    # The reviewed ids travel in one field, whatever their number.
    assert 'name="confirm"' in body and body.count('type="hidden" name="selection"') == 1
    assert 'name="secret"' not in body and 'name="all"' not in body
    done = confirm(url, confirmation)
    assert "2 secrets adopted, 1 of them as a new client." in done.content.decode()
    assert {"mlopez", "newguy"} <= set(accounts())


def test_all_adopts_every_adoptable_secret(client, owner, world, confirm):
    url = adopt_url(world["router"])
    page, confirmation = review(client, url, {"all": "on"})
    assert "4 secrets will be adopted" in page.content.decode()
    done = confirm(url, confirmation).content.decode()
    # Only the adoptable secrets were reviewed: the refused ones are neither adopted nor listed.
    assert "4 secrets adopted" in done and "l2tp" not in done
    assert set(accounts()) == {
        "own-1",
        "bob",
        "carl-2",
        "sub-1001",
        "4930123456",
        "mlopez",
        "newguy",
    }
    again = confirm(url, confirmation).content.decode()
    assert "No secret was adopted." in again and "4 selected secrets were no longer" in again


def test_a_secret_added_after_the_review_is_not_adopted(client, owner, sim, world, confirm):
    url = adopt_url(world["router"])
    _, confirmation = review(client, url, {"all": "on"})
    sim.add_secret("latecomer", "pw-late", comment="Came Later")
    done = confirm(url, confirmation).content.decode()
    assert "4 secrets adopted" in done
    assert "latecomer" not in accounts()
    with scopes_disabled():
        assert not Client.objects.filter(name="Came Later").exists()


def test_more_than_a_thousand_secrets_are_reviewed_and_adopted_by_the_job(
    client, owner, tenant, sim, router_for, confirm
):
    router = router_for(sim)
    for n in range(1005):
        sim.add_secret(f"bulk-{n:04d}", "pw")
    url = adopt_url(router)
    ids = foreign_ids(tenant, router)
    # Ticked one by one, the page joins the boxes into one field (Django refuses 1,000 fields).
    ticked, _ = review(client, url, {"secret": ",".join(ids[:1003])})
    assert "1,003 secrets will be adopted" in ticked.content.decode()
    page, confirmation = review(client, url, {"all": "on"})
    assert "1,005 secrets will be adopted as new clients." in page.content.decode()
    done = confirm(url, confirmation).content.decode()
    assert "1,005 secrets adopted, 1,005 of them as new clients." in done
    with scopes_disabled():
        assert PppoeAccount.objects.filter(router=router).count() == 1005
        job = RouterAdoption.objects.get(router=router)
        # In chunks of 200, the last one of 5: each committed with its progress.
        assert (job.status, job.secrets_done, job.total, job.attempts) == ("done", 1005, 1005, 1)
        assert len(job.adopted) == 1005 and job.lease_expires_at is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Select the secrets to adopt, or all of them."),
        ({"secret": "*FFFF"}, "Not a secret of this router."),
        ({"secret": "x" * 100_000}, "Not a secret of this router."),
        ({"secret": "*1\x00\x01"}, "Not a secret of this router."),
        ({"confirm": "on"}, SELECTION_REFUSED),
        ({"confirm": "on", "all": "on"}, SELECTION_REFUSED),
        ({"confirm": "on", "secret": "*1"}, SELECTION_REFUSED),
        ({"confirm": "on", "selection": "1e1000000"}, SELECTION_REFUSED),
        ({"confirm": "on", "selection": "x" * 100_000}, SELECTION_REFUSED),
        ({"confirm": "on", "selection": "\x00\x01:abc"}, SELECTION_REFUSED),
    ],
)
def test_bad_selections_are_refused_at_the_field(client, owner, world, data, message):
    before = state()
    response = client.post(adopt_url(world["router"]), data)
    assert response.status_code == 400
    assert str(message) in response.context["form"].errors["secret"][0]
    assert f'data-field-error="secret">{message}' in response.content.decode().replace(
        "&#x27;", "'"
    )
    assert state() == before


def test_a_selection_signed_for_another_router_is_refused(client, owner, tenant, sim, world):
    other = RouterFactory(tenant=tenant, name="Elsewhere")
    forged = adoption_selection_sign(other, [sim.secret("mlopez")[".id"]])
    before = state()
    response = client.post(adopt_url(world["router"]), {"confirm": "on", "selection": forged})
    assert response.status_code == 400 and state() == before
    assert str(SELECTION_REFUSED) in response.context["form"].errors["secret"][0]


def test_an_unreachable_router_says_so_and_adopts_nothing(client, owner, tenant, closed_port):
    router = RouterFactory(tenant=tenant, port=closed_port)
    page = client.get(adopt_url(router))
    assert page.status_code == 200
    text = page.content.decode()
    assert "cannot be read right now" in text and "refused the connection" in text
    before = state()
    done = client.post(adopt_url(router), {"all": "on", "confirm": "on"})
    assert "Nothing was adopted" in done.content.decode() and state() == before


def test_a_disabled_router_is_not_read(client, owner, tenant, sim, router_for):
    router = router_for(sim, enabled=False)
    commands = len(sim.commands)
    text = client.get(adopt_url(router)).content.decode()
    assert "disabled in Clientdesk" in text and len(sim.commands) == commands


def test_another_tenants_router_is_404(client, owner, other_tenant):
    router = RouterFactory(tenant=other_tenant)
    assert_other_tenant_gives_404(client, adopt_url(router))
    assert_other_tenant_gives_404(client, adopt_url(router), "post", {"all": "on", "confirm": "on"})


@pytest.mark.parametrize("role", ["viewer", "accountant"])
def test_roles_that_may_not_edit_accounts_are_refused(
    client, login_as, tenant, sim, router_for, role
):
    login_as(tenant, role)
    router = router_for(sim)
    sim.add_secret("someone", "pw")
    assert_role_refused(client, adopt_url(router))
    assert_role_refused(client, adopt_url(router), "post", {"all": "on", "confirm": "on"})
    with scopes_disabled():
        assert not PppoeAccount.objects.exists()


def test_a_manager_may_adopt(client, login_as, tenant, sim, router_for, confirm):
    login_as(tenant, "manager")
    router = router_for(sim)
    sim.add_secret("someone", "pw")
    _, confirmation = review(client, adopt_url(router), {"all": "on"})
    done = confirm(adopt_url(router), confirmation)
    assert "1 secret adopted, 1 of them as a new client." in done.content.decode()


def test_the_page_makes_a_fixed_number_of_queries(client, owner, tenant, sim, router_for):
    router = router_for(sim)
    ClientFactory(tenant=tenant, external_ref="match-0")
    sim.add_secret("match-0", "pw")
    url = adopt_url(router)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for n in range(1, 15):
        ClientFactory(tenant=tenant, external_ref=f"match-{n}")
        sim.add_secret(f"match-{n}", "pw")
        sim.add_secret(f"new-{n}", "pw", comment=f"Newcomer {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["proposals"]) == 29
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_one_adoption_run_by_two_workers_at_once_adopts_each_secret_once(sim, tenant, router_for):
    router = router_for(sim)
    for n in range(30):
        sim.add_secret(f"racing-{n:02d}", "pw")
    job = start_adoption(tenant, router)
    errors = []
    barrier = threading.Barrier(2)

    def work():
        try:
            with scopes_disabled():
                mine = RouterAdoption.objects.get(pk=job.pk)
            barrier.wait()
            run_adoption(mine, chunk_size=5)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with scopes_disabled():
        job.refresh_from_db()
        assert (job.status, job.attempts, job.secrets_done) == ("done", 1, 30)
        assert len(job.adopted) == 30 and job.clients_created == 30 and job.refused == []
        assert PppoeAccount.objects.filter(router=router).count() == 30
        assert Client.objects.filter(tenant=tenant).count() == 30


def test_an_adoption_run_again_changes_nothing(sim, tenant, owner, world):
    job = adopt(tenant, world["router"], owner.user, chunk_size=2)
    once, outcome = state(), (job.adopted, job.refused, job.gone, job.secrets_done)
    again = run_adoption(job)
    assert state() == once
    assert (again.adopted, again.refused, again.gone, again.secrets_done) == outcome
    assert again.attempts == 1


def test_a_worker_that_lost_its_lease_writes_nothing(sim, tenant, owner, world):
    job = start_adoption(tenant, world["router"], owner.user)
    with scopes_disabled():
        stale = lease_claim(RouterAdoption, job.pk)
        RouterAdoption.objects.filter(pk=job.pk).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
    taken_over = run_adoption(job)  # the next worker takes the expired lease over
    assert (taken_over.status, taken_over.attempts) == ("done", 2)
    once = state()
    with scopes_disabled(), pytest.raises(LeaseLost):
        services._adoption_run(job, stale, ADOPTION_CHUNK)
    assert state() == once


def test_a_second_confirmation_while_one_runs_starts_no_second_job(
    client, owner, tenant, sim, world
):
    url = adopt_url(world["router"])
    _, confirmation = review(client, url, {"all": "on"})
    first = client.post(url, confirmation)  # queued after the commit: not run here
    assert first.status_code == 302
    second = client.post(url, confirmation, follow=True)
    assert second.redirect_chain[-1][0] == first.url
    text = second.content.decode()
    assert "already under way" in text and 'data-status="queued"' in text
    with scopes_disabled():
        assert RouterAdoption.objects.count() == 1
    with scopes_disabled(), pytest.raises(AdoptionRunning):
        router_adoption_start(
            tenant=tenant, router=world["router"], actor=owner.user, secret_ids=["*1"]
        )


def test_the_adoption_page_shows_its_progress_and_polls_until_done(
    client, owner, tenant, sim, world
):
    job = start_adoption(tenant, world["router"], owner.user)
    page = client.get(job.get_absolute_url())
    text = page.content.decode()
    assert 'data-status="queued"' in text and 'hx-trigger="every 1s"' in text
    with scopes_disabled():
        RouterAdoption.objects.filter(pk=job.pk).update(
            status="running", secrets_done=2, adopted=[["mlopez", 7]], gone=1
        )
    fragment = client.get(job.get_absolute_url(), headers={"HX-Request": "true"})
    assert "HX-Request" in fragment["Vary"] and "no-store" in fragment["Cache-Control"]
    text = fragment.content.decode()
    assert "breadcrumb" not in text and "2 of 7 secrets" in text
    assert 'data-testid="adoption-adopted">1<' in text
    assert 'data-testid="adoption-raced">1<' in text
    with scopes_disabled():
        RouterAdoption.objects.filter(pk=job.pk).update(
            status="queued", secrets_done=0, adopted=[], gone=0
        )
    run_adoption(job)
    done = client.get(job.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done and "4 secrets adopted, 1 of them as a new client." in done


def test_a_router_that_cannot_be_read_fails_the_adoption_with_the_reason(
    client, owner, tenant, closed_port
):
    router = RouterFactory(tenant=tenant, port=closed_port)
    job = run_adoption(start_adoption(tenant, router, owner.user, secret_ids=["*1"]))
    assert job.status == "failed" and "refused the connection" in str(job.error)
    text = client.get(job.get_absolute_url()).content.decode()
    assert "The adoption stopped." in text and "No secret was adopted." in text
    with translation.override("ru"):
        reason = str(job.error)  # the router's message, read in Russian
    assert "refused the connection" not in reason
    russian = client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Перенос остановлен." in russian and reason in russian


def test_an_adoption_of_a_creator_who_may_no_longer_adopt_fails(sim, tenant, owner, world):
    job = start_adoption(tenant, world["router"], owner.user)
    with scopes_disabled():
        type(owner).objects.filter(pk=owner.pk).update(role="viewer")
    before = state()
    job = run_adoption(job)
    assert job.status == "failed" and "may no longer adopt" in str(job.error)
    assert state() == before


def test_another_tenants_adoption_or_another_routers_is_404(
    client, owner, tenant, other_tenant, sim, world
):
    theirs = RouterFactory(tenant=other_tenant)
    with scopes_disabled():
        foreign = router_adoption_start(
            tenant=other_tenant, router=theirs, actor=None, secret_ids=["*1"]
        )
        mine = start_adoption(tenant, world["router"], owner.user)
    assert_other_tenant_gives_404(client, foreign.get_absolute_url())
    elsewhere = RouterFactory(tenant=tenant, name="Elsewhere")
    url = reverse("routers:router_adoption", kwargs={"pk": elsewhere.pk, "adoption": mine.pk})
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("role", ["viewer", "accountant"])
def test_roles_that_may_not_adopt_do_not_see_an_adoption(
    client, login_as, tenant, sim, router_for, role
):
    router = router_for(sim)
    with scopes_disabled():
        job = router_adoption_start(tenant=tenant, router=router, actor=None, secret_ids=["*1"])
    login_as(tenant, role)
    assert_role_refused(client, job.get_absolute_url())


# -- a held client, a move, a race -------------------------------------------------------------
@pytest.mark.parametrize("status", [ClientStatus.ADMINISTRATIVE_HOLD, ClientStatus.FINANCIAL_HOLD])
def test_a_secret_of_a_client_on_hold_is_adopted_disabled_for_the_hold(
    client, owner, tenant, sim, router_for, confirm, status
):
    router = router_for(sim)
    held = ClientFactory(tenant=tenant, name="Held Person", external_ref="held-1", status=status)
    sim.add_secret("held-1", "pw-held", profile="10M")
    url = adopt_url(router)
    listed = client.get(url).content.decode()
    assert "client on hold: the secret will be disabled" in listed
    page, confirmation = review(client, url, {"all": "on"})
    summary = page.content.decode()
    assert "Its client is on hold: the secret will be disabled on the router." in summary
    assert "1 secret adopted." in confirm(url, confirmation).content.decode()
    account = accounts()["held-1"]
    assert account.client == held and not account.enabled
    assert account.disabled_reason == "hold_set"  # as a hold leaves the account of its client
    assert account.sync_state == SyncState.SYNCED  # the queued sync ran
    secret = sim.secret("held-1")
    assert secret["disabled"] == "true" and secret["password"] == "pw-held"
    assert secret[".id"] == account.router_secret_id and "comment" not in secret


def test_an_adopted_account_cannot_move_to_another_router(client, owner, tenant, sim, world):
    adopt(tenant, world["router"], owner.user, secret_ids=[sim.secret("mlopez")[".id"]])
    adopted = accounts()["mlopez"]
    other = RouterFactory(tenant=tenant, name="Far Away")
    url = reverse("routers:client_connection", kwargs={"number": adopted.client.number})
    response = client.post(
        url, {"router": other.pk, "username": "mlopez", "password": "", "profile": "30M"}
    )
    assert response.status_code == 400
    error = response.context["form"].errors["router"][0]
    assert "adopted from its secret on “Edge”" in error and "cannot move" in error
    kept = accounts()["mlopez"]
    assert (kept.router_id, kept.router_secret_id) == (world["router"].pk, adopted.router_secret_id)
    # On its own router the account is still saved as usual.
    same = client.post(
        url, {"router": world["router"].pk, "username": "mlopez", "password": "", "profile": "35M"}
    )
    assert same.status_code == 302 and accounts()["mlopez"].profile == "35M"


@pytest.mark.django_db(transaction=True)
def test_adoptions_on_two_routers_of_a_tenant_at_once_give_each_client_one_account(
    tenant, simulators, router_for
):
    first, second = simulators(2)
    routers = [router_for(first, name="North"), router_for(second, name="South")]
    people = [ClientFactory(tenant=tenant, name=f"Person {n}") for n in range(12)]
    for prefix, sim in (("n", first), ("s", second)):
        for person in people:  # each router names every client, by its Client ID
            sim.add_secret(f"{prefix}-{person.number}", "pw", comment=str(person.number))
        for n in range(6):  # and both have secrets of one name for new clients
            sim.add_secret(f"shared-{n}", "pw")
    results, errors = [], []
    barrier = threading.Barrier(2)
    jobs = {router.pk: start_adoption(tenant, router) for router in routers}

    def run(router):
        try:
            barrier.wait()
            results.append(run_adoption(jobs[router.pk], chunk_size=3))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(router,)) for router in routers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(len(r.adopted) for r in results) == 12 + 6
    refused = [reason for r in results for _, reason in r.refusals]
    assert len(refused) == 12 + 6
    assert all("already" in reason for reason in refused), refused
    with scopes_disabled():
        usernames = list(PppoeAccount.objects.values_list("username", flat=True))
        assert len(usernames) == len(set(usernames)) == 18
        assert PppoeAccount.objects.filter(client__in=people).count() == 12
        assert Client.objects.filter(tenant=tenant).count() == 12 + 6


@pytest.mark.django_db(transaction=True)
def test_an_account_saved_by_hand_during_an_adoption_makes_its_secret_refused(
    tenant, sim, router_for, monkeypatch
):
    router = router_for(sim)
    elsewhere = RouterFactory(tenant=tenant, name="Manual")
    taken, free = (ClientFactory(tenant=tenant, external_ref=ref) for ref in ("man-1", "man-2"))
    sim.add_secret("man-1", "pw")
    sim.add_secret("man-2", "pw")
    matched = services.adoption_proposals
    calls = []

    def matched_then_saved_by_hand(**kwargs):
        proposals = matched(**kwargs)
        calls.append(len(proposals))
        if len(calls) == 1:  # another operator's form commits an account for `taken` now

            def save_by_hand():
                with scopes_disabled():
                    PppoeAccountFactory(tenant=tenant, client=taken, router=elsewhere)
                connections.close_all()

            thread = threading.Thread(target=save_by_hand)
            thread.start()
            thread.join(timeout=30)
        return proposals

    monkeypatch.setattr(services, "adoption_proposals", matched_then_saved_by_hand)
    result = adopt(tenant, router)
    assert len(calls) == 2  # matched again after the savepoint rolled back
    assert result.adopted == [["man-2", free.number]]
    assert len(result.refused) == 1 and result.refused[0][0] == "man-1"
    assert f"Client #{taken.number} already has the PPPoE account" in result.refusals[0][1]
    with scopes_disabled():
        assert PppoeAccount.objects.get(client=taken).router == elsewhere
        assert Client.objects.filter(tenant=tenant).count() == 2


def test_the_adoption_page_makes_a_fixed_number_of_queries(client, owner, tenant, sim, world):
    """The outcome lists what was adopted and refused from the job's own row, with no query per
    secret."""
    job = start_adoption(tenant, world["router"], owner.user)

    def finished(count: int) -> int:
        with scopes_disabled():
            RouterAdoption.objects.filter(pk=job.pk).update(
                status="done",
                secrets_done=2 * count,
                adopted=[[f"s-{n}", n] for n in range(count)],
                refused=[[f"r-{n}", "Its service is l2tp, not PPPoE."] for n in range(count)],
                clients_created=count,
            )
        client.get(job.get_absolute_url())
        with CaptureQueriesContext(connection) as queries:
            assert client.get(job.get_absolute_url()).status_code == 200
        return len(queries.captured_queries)

    assert finished(1) == finished(40)

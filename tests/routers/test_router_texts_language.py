"""Why the router refused an account's change (`PppoeAccount.sync_error`) and why an adoption
refused a secret are stored as their messages: written once in an English context (the
poller, a beat job; an adoption started by an English-speaking operator), each reads in its
reader's language, on the adoption's page and in the admin; rows written before keep their
words, forwards and back. The routers' API says its problems in the caller's language; its
OpenAPI schema stays in English, a contract for developers like its field names."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from core.stored_text import StoredText, literal_text, stored_gettext
from routers.api import ROUTER_SORTS
from routers.models import PppoeAccount, RouterAdoption, SyncState
from routers.poller import poll_routers
from routers.selectors import foreign_secrets, router_secrets_read
from routers.services import router_adoption_execute, router_adoption_start
from tenancy.services import api_token_create
from tests.factories import PppoeAccountFactory, RouterFactory, UserFactory
from tests.helpers import force_login_verified
from tests.i18n.visible_text import CYRILLIC_WORD, data_words, english_words

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
CLASH_EN = "already exists on the router and was not created by Clientdesk; it was left alone."
CLASH_RU = "созданный не Clientdesk; он оставлен как есть."
SERVICE_EN = "Its service is l2tp, not PPPoE."
SERVICE_RU = "Его сервис — l2tp, а не PPPoE."
TAKEN_EN = "“bob” is already the PPPoE account of client #{number} on Other."
TAKEN_RU = "«bob» уже является PPPoE-аккаунтом клиента №{number} на Other."


def page(client, url, **language) -> str:
    response = client.get(url, **language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def superuser_client(client):
    force_login_verified(client, UserFactory(is_superuser=True, is_staff=True))
    return client


# -- an account the router refused --------------------------------------------------------------
@pytest.fixture
def refused_account(sim, router_for, tenant):
    """An account whose name is a secret someone else made on the router, polled by the beat
    job in English."""
    sim.add_secret("alice", "theirs")
    account = PppoeAccountFactory(
        tenant=tenant, router=router_for(sim), username="alice", sync_state="pending"
    )
    with translation.override("en"):
        poll_routers()
    with scopes_disabled():
        return PppoeAccount.objects.get(pk=account.pk)


def test_the_poller_stores_the_routers_refusal_as_its_message(refused_account):
    error = refused_account.sync_error
    assert refused_account.sync_state == SyncState.ERROR
    assert isinstance(error, StoredText) and not error.literal
    assert error.params == {"login": "alice"}
    with translation.override("ru"):
        assert str(error) == f"На роутере уже есть секрет «alice», {CLASH_RU}"
    with translation.override("en"):
        assert str(error) == f"A secret named “alice” {CLASH_EN}"


def test_a_second_poll_keeps_the_same_message_and_a_fix_clears_it(sim, refused_account):
    with translation.override("ru"):
        poll_routers()  # an operator's poll in Russian: the same message, not its Russian words
    with scopes_disabled():
        again = PppoeAccount.objects.get(pk=refused_account.pk)
    assert again.sync_error == refused_account.sync_error
    sim.secrets.pop(sim.secret("alice")[".id"])
    poll_routers()
    with scopes_disabled():
        fixed = PppoeAccount.objects.get(pk=refused_account.pk)
    assert fixed.sync_state == SyncState.SYNCED and fixed.sync_error == literal_text("")


def test_the_admin_shows_the_routers_refusal_in_each_readers_language(
    superuser_client, refused_account
):
    url = reverse("admin:routers_pppoeaccount_change", args=[refused_account.pk])
    russian = page(superuser_client, url, **RU)
    assert CLASH_RU in russian and CLASH_EN not in russian
    english = page(superuser_client, url, **EN)
    assert CLASH_EN in english and CLASH_RU not in english


@pytest.mark.django_db(transaction=True)
def test_the_sync_error_migration_keeps_old_words_forwards_and_back(tenant):
    account = PppoeAccountFactory(tenant=tenant, router=RouterFactory(tenant=tenant))
    old_words = 'The router said: "no such profile" (100% sure)'
    executor = MigrationExecutor(connection)
    executor.migrate([("routers", "0009_router_adoption")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE routers_pppoeaccount SET sync_error = %s WHERE id = %s",
                [old_words, account.pk],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    with scopes_disabled():
        error = PppoeAccount.objects.get(pk=account.pk).sync_error
    assert error == literal_text(old_words)
    with translation.override("ru"):
        assert str(error) == old_words

    with scopes_disabled():
        PppoeAccount.objects.filter(pk=account.pk).update(
            sync_error=stored_gettext("The secret is missing on the router.")
        )
    executor = MigrationExecutor(connection)
    executor.migrate([("routers", "0009_router_adoption")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sync_error FROM routers_pppoeaccount WHERE id = %s", [account.pk]
            )
            assert cursor.fetchone() == ("The secret is missing on the router.",)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# -- an adoption's refused secrets --------------------------------------------------------------
@pytest.fixture
def adoption(sim, router_for, tenant):
    """An adoption started and run in English: one secret adopted as a new client, one of
    another service and one whose name is an account on another router, both refused."""
    router = router_for(sim, name="Edge")
    with scopes_disabled():
        elsewhere = PppoeAccountFactory(
            tenant=tenant, router=RouterFactory(tenant=tenant, name="Other"), username="bob"
        )
    sim.add_secret("newguy", "pw-new", comment="New Guy")
    sim.add_secret("bob", "pw-bob", service="pppoe")
    sim.add_secret("vpn-user", "pw-vpn", service="l2tp")
    with translation.override("en"), scopes_disabled():
        ids = [s.secret_id for s in foreign_secrets(tenant, router, router_secrets_read(router))]
        job = router_adoption_start(tenant=tenant, router=router, actor=None, secret_ids=ids)
        job = router_adoption_execute(job=job)
    assert job.status == "done", job.error
    job.taken_number = elsewhere.client.number
    return job


def test_the_adoption_stores_each_refusal_as_its_message(adoption):
    reasons = dict(adoption.refused)
    assert reasons["vpn-user"] == {
        "msgid": "Its service is %(service)s, not PPPoE.",
        "params": {"service": "l2tp"},
    }
    assert reasons["bob"]["msgid"].startswith("“%(name)s” is already the PPPoE account")
    number = adoption.taken_number
    with translation.override("ru"):
        assert dict(adoption.refusals) == {
            "bob": TAKEN_RU.format(number=number),
            "vpn-user": SERVICE_RU,
        }
    with translation.override("en"):
        assert dict(adoption.refusals) == {
            "bob": TAKEN_EN.format(number=number),
            "vpn-user": SERVICE_EN,
        }


def test_the_adoption_page_reads_the_refusals_in_each_operators_language(client, owner, adoption):
    url = adoption.get_absolute_url()
    russian = page(client, url, **RU)
    assert SERVICE_RU in russian and TAKEN_RU.format(number=adoption.taken_number) in russian
    assert SERVICE_EN not in russian
    english = page(client, url, **EN)
    assert SERVICE_EN in english and TAKEN_EN.format(number=adoption.taken_number) in english
    assert SERVICE_RU not in english


def test_the_admin_reads_the_refusals_in_each_readers_language(superuser_client, adoption):
    url = reverse("admin:routers_routeradoption_change", args=[adoption.pk])
    russian = page(superuser_client, url, **RU)
    assert f"vpn-user: {SERVICE_RU}" in russian and SERVICE_EN not in russian
    assert '"msgid"' not in russian  # the stored form itself is not shown
    english = page(superuser_client, url, **EN)
    assert f"vpn-user: {SERVICE_EN}" in english and SERVICE_RU not in english


@pytest.mark.django_db(transaction=True)
def test_the_refusals_migration_turns_old_sentences_into_messages_and_back(tenant):
    router = RouterFactory(tenant=tenant, name="Edge")
    with scopes_disabled():
        job = RouterAdoption.objects.create(tenant=tenant, router=router, language="ru")
    before = [
        ["vpn-user", "Его сервис — l2tp, а не PPPoE."],
        ["carl", "У клиента №17 уже есть PPPoE-аккаунт «carl-2»."],
        ["twin", "По логину клиента подходит несколько клиентов (#3, #4)."],
        ["odd", "Причина, которой нет среди сообщений"],
    ]
    executor = MigrationExecutor(connection)
    executor.migrate([("routers", "0010_pppoe_account_sync_error_stored_text")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE routers_routeradoption SET refused = %s::jsonb WHERE id = %s",
                [json.dumps(before), job.pk],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    with scopes_disabled():
        job = RouterAdoption.objects.get(pk=job.pk)
    reasons = dict(job.refused)
    assert reasons["vpn-user"] == {
        "msgid": "Its service is %(service)s, not PPPoE.",
        "params": {"service": "l2tp"},
    }
    assert reasons["carl"]["params"] == {"number": 17, "username": "carl-2"}
    assert reasons["twin"]["params"]["key"] == {"msgid": "login", "context": "adoption matched by"}
    assert reasons["odd"] == "Причина, которой нет среди сообщений"
    with translation.override("en"):
        assert dict(job.refusals) == {
            "vpn-user": SERVICE_EN,
            "carl": "Client #17 already has the PPPoE account “carl-2”.",
            "twin": "Its login matches several clients (#3, #4).",
            "odd": "Причина, которой нет среди сообщений",
        }

    executor = MigrationExecutor(connection)
    executor.migrate([("routers", "0010_pppoe_account_sync_error_stored_text")])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT refused FROM routers_routeradoption WHERE id = %s", [job.pk])
            (after,) = cursor.fetchone()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert (after if isinstance(after, list) else json.loads(after)) == before


# -- the API: its problems in the caller's language, its schema in English ---------------------
@pytest.fixture
def bearer(tenant):
    with scopes_disabled():
        secret = api_token_create(tenant=tenant, actor=None, name="t", scope="viewer").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def english_in(text: str, allowed: set[str]) -> list[str]:
    """The English words of a plain text."""
    return english_words(text.replace("&", "&amp;").replace("<", "&lt;"), allowed)


def problem_texts(body: dict) -> list[str]:
    """What a person reads of a problem document: its title, detail and field messages."""
    texts = [body.get("title", ""), body.get("detail", "")]
    return [*texts, *(error.get("message", "") for error in body.get("errors", []))]


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "nonsense"},  # not one of the sorts
        {"state": "x" * 21},  # longer than the parameter may be
        {"limit": "много"},  # not a number
    ],
)
def test_a_routers_api_validation_problem_in_russian_has_no_english(client, bearer, query):
    response = client.get("/api/v1/routers/", query, **bearer, **RU)
    assert response.status_code in (400, 422)
    body = response.json()
    texts = [text for text in problem_texts(body) if text]
    assert len(texts) >= 3, body  # a title, a detail and the field's message
    allowed = data_words(*query.values(), *ROUTER_SORTS)
    english = {text: english_in(text, allowed) for text in texts}
    assert all(CYRILLIC_WORD.search(text) for text in texts), body
    assert not any(english.values()), english
    in_english = client.get("/api/v1/routers/", query, **bearer, **EN).json()
    assert problem_texts(in_english) != problem_texts(body)


def test_the_openapi_schema_stays_in_english_for_a_russian_caller(client, owner):
    russian = client.get("/api/v1/schema/", **RU).json()
    english = client.get("/api/v1/schema/", **EN).json()
    assert russian == english
    routers = russian["paths"]["/api/v1/routers/"]["get"]
    described = json.dumps(routers, ensure_ascii=False)
    assert "Name, host or identity." in described
    assert not CYRILLIC_WORD.search(described)

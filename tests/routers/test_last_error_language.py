"""A router's last error is stored as its message (host, port and what the router or the system
said as literal text): the poller, a beat job with English active, writes it once, and each
reader reads it in their own language, on the Routers page, its export, the client's
Connection block and the API; an error stored before keeps its words."""

from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled
from openpyxl import load_workbook

from core.stored_text import StoredText, literal_text
from exports.lists import LIST_EXPORT_KIND
from exports.models import ExportJob, ExportStatus
from exports.tasks import export_job_run
from routers.models import PppoeAccount, Router
from routers.poller import poll_routers
from routers.routeros import RouterError
from tenancy.services import api_token_create
from tests.factories import PppoeAccountFactory, RouterFactory
from tests.helpers import migrated_back_to

pytestmark = pytest.mark.django_db

RU = {"HTTP_ACCEPT_LANGUAGE": "ru"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ENGLISH = "refused the connection: the router is off, or its API service is disabled."
RUSSIAN = "отклонил подключение: роутер выключен или на нём отключён сервис API."


@pytest.fixture
def down(tenant, closed_port):
    """A router with nothing listening on its port, polled by the beat job in English."""
    router = RouterFactory(tenant=tenant, name="Down", port=closed_port)
    PppoeAccountFactory(tenant=tenant, router=router, username="alice")
    with translation.override("en"):
        poll_routers()
    with scopes_disabled():
        return Router.objects.get(pk=router.pk)


def test_the_poller_stores_the_message_with_host_and_port(down):
    error = down.last_error
    assert isinstance(error, StoredText) and not error.literal
    assert error.params == {"host": down.host, "port": down.port}
    with translation.override("ru"):
        assert str(error) == f"{down.host}:{down.port} {RUSSIAN}"
    with translation.override("en"):
        assert str(error) == f"{down.host}:{down.port} {ENGLISH}"


def test_the_routers_page_reads_in_each_operators_language(client, owner, down):
    russian = client.get(reverse("routers:router_list"), **RU).content.decode()
    assert RUSSIAN in russian and ENGLISH not in russian
    english = client.get(reverse("routers:router_list"), **EN).content.decode()
    assert ENGLISH in english and RUSSIAN not in english
    edit = client.get(reverse("routers:router_edit", kwargs={"pk": down.pk}), **RU)
    assert RUSSIAN in edit.content.decode()


def exported_errors(client, **language) -> list[str]:
    """The Last error column of the Routers list's .xlsx, started in `language`."""
    client.post(
        reverse("exports:list_export"),
        {"list_path": reverse("routers:router_list"), "list_query": ""},
        **language,
    )
    with scopes_disabled():
        job = ExportJob.objects.filter(kind=LIST_EXPORT_KIND).latest("pk")
    export_job_run(job.pk, tenant_id=job.tenant_id)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    download = client.get(reverse("exports:export_download", kwargs={"pk": job.pk}))
    sheet = load_workbook(BytesIO(b"".join(download.streaming_content))).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    return [" ".join(str(cell) for cell in row if cell) for row in rows[1:]]


def test_the_routers_export_reads_in_the_language_it_was_started_in(client, owner, down):
    (russian,) = exported_errors(client, **RU)
    assert RUSSIAN in russian
    (english,) = exported_errors(client, **EN)
    assert ENGLISH in english


def test_the_clients_connection_block_reads_in_the_operators_language(client, owner, down):
    with scopes_disabled():
        number = PppoeAccount.objects.get(router=down).client.number
    url = reverse("clients:client_detail", kwargs={"number": number})
    assert RUSSIAN in client.get(url, **RU).content.decode()
    assert ENGLISH in client.get(url, **EN).content.decode()


@pytest.fixture
def bearer(tenant):
    with scopes_disabled():
        secret = api_token_create(tenant=tenant, actor=None, name="t", scope="viewer").secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_the_api_answers_the_error_as_a_string_in_the_callers_language(client, bearer, down):
    russian = client.get(f"/api/v1/routers/{down.pk}/", **bearer, **RU).json()
    assert russian["last_error"] == f"{down.host}:{down.port} {RUSSIAN}"
    english = client.get(f"/api/v1/routers/{down.pk}/", **bearer, **EN).json()
    assert english["last_error"] == f"{down.host}:{down.port} {ENGLISH}"
    (account,) = client.get("/api/v1/pppoe-accounts/", **bearer, **RU).json()["items"]
    assert account["router_error"] == russian["last_error"]


def test_the_admin_shows_the_error_in_its_language(down):
    from routers.admin import RouterAdmin

    shown = RouterAdmin(Router, None).last_error_shown
    with translation.override("ru"):
        assert RUSSIAN in shown(down)


def test_a_router_error_holds_a_message_not_words():
    with pytest.raises(TypeError, match="stored message"):
        RouterError("network", "Connection refused")
    error = RouterError("network", literal_text("Connection refused"))
    assert error.message == str(error) == "Connection refused"


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_an_old_error_as_it_was(tenant):
    router = RouterFactory(tenant=tenant, name="Old")
    with migrated_back_to(("routers", "0007_translatable_names")) as cursor:
        cursor.execute(
            "UPDATE routers_router SET last_error = %s WHERE id = %s",
            ['127.0.0.1:8728 refused the connection (100% "quoted")', router.pk],
        )
    with scopes_disabled():
        error = Router.objects.get(pk=router.pk).last_error
    assert error == literal_text('127.0.0.1:8728 refused the connection (100% "quoted")')
    with translation.override("ru"):
        assert str(error) == '127.0.0.1:8728 refused the connection (100% "quoted")'

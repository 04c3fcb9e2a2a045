"""The Import page: upload, mapping and preview, commit, refused rows; roles and tenants."""

import io

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled
from openpyxl import load_workbook

from clients.importing import client_import_upload
from clients.models import Client, ClientImport
from clients.tasks import client_import_run
from tests.helpers import assert_other_tenant_gives_404, assert_role_refused

pytestmark = pytest.mark.django_db

CSV = b"External ID,Name,E-mail\nR1,Ann,ann@example.com\nR2,,bad\nR3,=cmd,x@example.com\n"
CSV_OK = CSV.replace(b"=cmd", b"Bob")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def make_import(tenant, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(CSV_OK)
    with scope(tenant=tenant):
        return client_import_upload(tenant=tenant, actor=None, path=str(path), file_name="c.csv")


def post_file(client, content, name="clients.csv"):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(reverse("clients:client_import"), {"file": upload})


def test_upload_preview_commit_and_download_refused_rows(client, tenant, owner):
    response = post_file(client, CSV_OK)
    assert response.status_code == 302
    with scopes_disabled():
        job = ClientImport.objects.get()
    page = client.get(response.url).content.decode()
    assert 'data-testid="preview-created">2<' in page and 'preview-refused">1<' in page
    response = client.post(
        response.url,
        {
            "column_0": "external_ref",
            "column_1": "name",
            "column_2": "email",
            "match_by": "external_ref",
            "commit": "1",
        },
    )
    assert response.status_code == 302
    client_import_run(job.pk, tenant_id=tenant.pk)
    page = client.get(response.url).content.decode()
    assert "created 2, updated 0, unchanged 0, refused 1" in page.replace("Done: ", "")
    download = client.get(reverse("exports:client_import_refused", kwargs={"pk": job.pk}))
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("External ID", "Name", "E-mail", "Line", "Reason")
    assert rows[1][:4] == ("R2", None, "bad", 3) and rows[1][4].startswith("Name")
    with scopes_disabled():
        assert Client.objects.filter(tenant=tenant).count() == 2


def test_a_bad_file_gets_its_message_next_to_the_field(client, tenant, owner):
    response = post_file(client, CSV)
    assert response.status_code == 400
    assert "formulas" in response.content.decode()
    with scopes_disabled():
        assert not ClientImport.objects.exists()


def test_a_mapping_without_the_matching_key_is_refused(client, tenant, owner, tmp_path):
    job = make_import(tenant, tmp_path)
    url = reverse("clients:client_import_detail", kwargs={"pk": job.pk})
    response = client.post(url, {"column_1": "name", "match_by": "external_ref", "commit": "1"})
    assert response.status_code == 400
    assert "clients are matched by it" in response.content.decode()
    with scopes_disabled():
        assert ClientImport.objects.get().status == "previewed"


@pytest.mark.parametrize("role", ["viewer", "accountant"])
def test_roles_without_client_rights_are_refused(client, tenant, login_as, role, tmp_path):
    job = make_import(tenant, tmp_path)
    login_as(tenant, role)
    for url in (
        reverse("clients:client_import"),
        reverse("clients:client_import_detail", kwargs={"pk": job.pk}),
        reverse("exports:client_import_refused", kwargs={"pk": job.pk}),
    ):
        assert_role_refused(client, url)


def test_another_tenants_import_is_404(client, tenant, other_tenant, owner, tmp_path):
    job = make_import(other_tenant, tmp_path)
    assert_other_tenant_gives_404(
        client, reverse("clients:client_import_detail", kwargs={"pk": job.pk})
    )
    assert_other_tenant_gives_404(
        client, reverse("exports:client_import_refused", kwargs={"pk": job.pk})
    )


def test_the_pages_query_counts(client, tenant, owner, tmp_path, django_assert_max_num_queries):
    job = make_import(tenant, tmp_path)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("clients:client_import")).status_code == 200
    with django_assert_max_num_queries(12):
        url = reverse("clients:client_import_detail", kwargs={"pk": job.pk})
        assert client.get(url).status_code == 200

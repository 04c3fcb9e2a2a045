"""The client import writes set-based: a chunk runs the same statements whether it holds ten
rows or a hundred (new clients with their accounts, activity lines and opening balances, or
existing clients updated), and the preview runs the same statements for any number of rows in
a chunk."""

import csv

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from clients.importing import client_import_commit, client_import_execute, client_import_upload
from clients.models import Client, ImportStatus

pytestmark = pytest.mark.django_db

HEADER = ["External ID", "Client name", "E-mail", "Opening balance"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def rows(count: int, *, first: int, name: str = "Client") -> list[list]:
    """A file's rows: every tenth e-mail refused, every fifth new client with a balance."""
    lines = [HEADER]
    for i in range(first, first + count):
        email = "not-an-email" if i % 10 == 7 else f"c{i}@example.com"
        lines.append([f"S{i}", f"{name} {i}", email, "12.50" if i % 5 == 0 else ""])
    return lines


def upload(tenant, tmp_path, name: str, lines: list[list]):
    path = tmp_path / name
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(lines)
    with scope(tenant=tenant):
        return client_import_upload(tenant=tenant, actor=None, path=str(path), file_name=name)


def commit_statements(tenant, tmp_path, name: str, lines: list[list], chunk_rows: int) -> int:
    """The statements of the commit of `lines` in chunks of `chunk_rows`."""
    job = upload(tenant, tmp_path, name, lines)
    with scope(tenant=tenant):
        job = client_import_commit(job=job, actor=None, queue=False)
        with CaptureQueriesContext(connection) as statements:
            job = client_import_execute(job=job, chunk_rows=chunk_rows)
    assert job.status == ImportStatus.DONE, job.error
    assert job.counts["refused"] == len(lines[1:]) // 10
    return len(statements.captured_queries)


def test_new_clients_take_the_same_statements_in_chunks_of_ten_or_a_hundred(tenant, tmp_path):
    # The tenant's first import starts its number sequence: a statement of its own, once.
    commit_statements(tenant, tmp_path, "first.csv", rows(10, first=5000), chunk_rows=10)
    small = commit_statements(tenant, tmp_path, "small.csv", rows(20, first=0), chunk_rows=10)
    large = commit_statements(tenant, tmp_path, "large.csv", rows(200, first=100), chunk_rows=100)
    assert small == large
    with scope(tenant=tenant):
        assert Client.objects.for_tenant(tenant).count() == 9 + 18 + 180


def test_updated_clients_take_the_same_statements_in_chunks_of_ten_or_a_hundred(tenant, tmp_path):
    commit_statements(tenant, tmp_path, "a.csv", rows(20, first=0), chunk_rows=10)
    commit_statements(tenant, tmp_path, "b.csv", rows(200, first=100), chunk_rows=100)
    small = commit_statements(
        tenant, tmp_path, "a2.csv", rows(20, first=0, name="Renamed"), chunk_rows=10
    )
    large = commit_statements(
        tenant, tmp_path, "b2.csv", rows(200, first=100, name="Renamed"), chunk_rows=100
    )
    assert small == large
    with scope(tenant=tenant):
        renamed = Client.objects.for_tenant(tenant).filter(name__startswith="Renamed")
        assert renamed.count() == 18 + 180


def test_the_preview_takes_the_same_statements_for_few_rows_or_many(tenant, tmp_path):
    def preview_statements(name, lines):
        with CaptureQueriesContext(connection) as statements:
            job = upload(tenant, tmp_path, name, lines)
        assert job.total == len(lines) - 1
        return len(statements.captured_queries)

    assert preview_statements("few.csv", rows(30, first=0)) == preview_statements(
        "many.csv", rows(900, first=1000)
    )

"""scripts/restore-rehearsal.sh on a tiny database: a pg_dump of the test database restores
into a new database whose ledger audit_ledger passes; a dump whose balance was tampered with
fails the rehearsal."""

import os
import subprocess
import uuid

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from billing.models import Account
from tests.factories import ClientFactory, TenantFactory, make_account
from tests.ops.compose import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def libpq_env() -> dict:
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "DATABASE_URL"))}
    env |= {"PGHOST": db["HOST"] or "127.0.0.1", "PGPORT": str(db["PORT"] or 5432)}
    env["PGUSER"] = db["USER"]
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def dump(path) -> None:
    subprocess.run(  # noqa: S603 - pg_dump of the test database
        ["pg_dump", "--format=custom", "--file", str(path), connection.settings_dict["NAME"]],
        env=libpq_env(),
        check=True,
        timeout=60,
    )


def rehearse(path):
    database = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    return subprocess.run(  # noqa: S603 - the script under test
        [str(ROOT / "scripts" / "restore-rehearsal.sh"), str(path), database],
        env=libpq_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    ), database


def database_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


def test_a_dump_restores_and_its_ledger_is_audited(tmp_path):
    tenant = TenantFactory()
    account = make_account(ClientFactory(tenant=tenant), balance="42.00")
    dump(tmp_path / "good.dump")
    done, database = rehearse(tmp_path / "good.dump")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "at this code's migrations" in done.stdout
    assert "Ledger OK: 1 account(s) checked." in done.stdout
    assert not database_exists(database)

    with scopes_disabled():
        Account.objects.filter(pk=account.pk).update(balance="1000.00")
    dump(tmp_path / "tampered.dump")
    done, database = rehearse(tmp_path / "tampered.dump")
    assert done.returncode != 0
    assert "Ledger mismatch: 1 account balance(s)" in done.stderr
    assert not database_exists(database)

"""`manage.py import_messages` (CSV and JSON lines, reports, bad lines, a re-import), the
Celery tasks (thin: tenant ids in, quiet when the tenant is gone) and beat's entries."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from config.celery import app as celery_app
from messaging.models import DailySenderStat, Message
from messaging.tasks import (
    messaging_charges_post_all,
    messaging_charges_post_for_tenant,
    messaging_rollups_refresh,
    messaging_rollups_refresh_all,
)
from tests.factories import ClientFactory, make_account, message_record

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_messages", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_csv_twice(tenant, tmp_path):
    customer = ClientFactory(tenant=tenant)
    path = tmp_path / "messages.csv"
    path.write_text(
        "key,client,channel,sender,recipient,text,status,sent_at\n"
        f"g1,{customer.number},sms,Shop,+37129123456,Hello,delivered,2026-03-10T10:00:00Z\n"
        f"g2,{customer.number},sms,Shop,+37129123456,Привет,sent,2026-03-10T11:00:00Z\n"
        f"g3,{customer.number},sms,Shop,not-a-number,Hi,sent,2026-03-10T11:00:00Z\n",
        encoding="utf-8",
    )
    out, err = run(str(path), "--tenant", tenant.slug, "--rollup")
    assert "3 records: 2 new, 0 already imported, 1 refused" in out
    assert "rollups rebuilt for 1 client-days" in out
    assert "record 3 (g3): recipient:" in err
    out, _ = run(str(path), "--tenant", tenant.slug)
    assert "3 records: 0 new, 2 already imported, 1 refused" in out
    with scopes_disabled():
        assert Message.objects.count() == 2
        assert DailySenderStat.objects.get().sent_parts == 2


def test_import_json_lines_and_reports(tenant, tmp_path):
    customer = ClientFactory(tenant=tenant)
    messages = tmp_path / "messages.jsonl"
    lines = [json.dumps(message_record(customer, key=f"j{i}", status="sent")) for i in range(3)]
    messages.write_text("\n".join([*lines, "", "not json", "[1]"]) + "\n", encoding="utf-8")
    out, err = run(str(messages), "--tenant", tenant.slug)
    assert "3 records: 3 new" in out
    assert "line 5: not JSON" in err and "line 6: not a JSON object" in err
    reports = tmp_path / "reports.jsonl"
    reports.write_text(
        json.dumps({"key": "j0", "status": "delivered"})
        + "\n"
        + json.dumps({"key": "nope", "status": "delivered"})
        + "\n",
        encoding="utf-8",
    )
    out, _ = run(str(reports), "--tenant", tenant.slug, "--reports")
    assert "2 reports: 1 applied, 0 unchanged, 1 unknown, 0 refused" in out


def test_import_refuses_bad_arguments(tenant, tmp_path):
    with pytest.raises(CommandError, match="No tenant"):
        run("x.csv", "--tenant", "nope")
    with pytest.raises(CommandError, match="No file"):
        run(str(tmp_path / "missing.csv"), "--tenant", tenant.slug)
    tenant.uses_messaging = False
    tenant.save()
    with pytest.raises(CommandError, match="does not use messaging"):
        run("x.csv", "--tenant", tenant.slug)


def test_tasks_run_per_tenant_and_return_quietly(tenant, other_tenant):
    customer = ClientFactory(tenant=tenant, sms_price=Decimal("0.10"))
    make_account(customer)
    with scopes_disabled():
        from messaging.services import messages_ingest

        messages_ingest(tenant=tenant, records=[message_record(customer, key="t1")])
    other_tenant.uses_messaging = False
    other_tenant.save()
    assert messaging_rollups_refresh_all.delay().get() == 1
    with scopes_disabled():
        assert DailySenderStat.objects.count() == 1
    assert messaging_rollups_refresh(other_tenant.pk) is None
    assert messaging_rollups_refresh(999999) is None
    assert messaging_charges_post_for_tenant(tenant.pk) == 1  # 2026-03-10 is a closed day
    assert messaging_charges_post_for_tenant(tenant.pk) == 0
    assert messaging_charges_post_all.delay().get() == 1


def test_beat_runs_rollups_and_charges():
    schedule = celery_app.conf.beat_schedule
    tasks = {entry["task"] for entry in schedule.values()}
    assert {
        "messaging.tasks.messaging_rollups_refresh_all",
        "messaging.tasks.messaging_charges_post_all",
    } <= tasks

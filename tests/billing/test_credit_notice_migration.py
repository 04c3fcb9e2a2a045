"""The credit-limit notices of before the e-mail outbox are carried into it under the outbox's
keys: a notice decided but not sent goes out once after the upgrade (in the client's
language), one already sent never again, a change without "Notify customer" or without an
address owes nothing, and a notice task the old code queued sends nothing. Migrated back to
before the outbox, old-style rows written, migrated forward, then the sender run against a
real SMTP server on 127.0.0.1."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.tasks import retired_credit_limit_change_notify
from config.celery import app as celery_app
from events.outbox import EmailStatus, OutboxEmail, OwedEmail, emails_enqueue
from events.tasks import outbox_emails_sweep
from tests.events.test_email_outbox import smtp  # noqa: F401 - the SMTP server on loopback

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("billing", "0003_tenant_keyed_links")]
AFTER = [("billing", "0004_credit_notice_through_outbox")]


def migrate(targets):
    """Migrate to `targets`; the models as the database now has them (every app at its
    applied state, billing's of before the outbox)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)._create_project_state(with_applied_migrations=True).apps


@pytest.fixture
def back_to_latest():
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def old_style_changes(old):
    """Five credit changes as the old code left them; returns {what: change id}."""
    tenant = old.get_model("tenancy", "Tenant").objects.create(
        name="Northwind", slug="migrated", currency="EUR"
    )
    clients = old.get_model("clients", "Client")
    accounts = old.get_model("billing", "Account")
    changes = old.get_model("billing", "CreditLimitChange")
    sent_at = timezone.now() - timedelta(days=3)
    made = {}
    for number, (what, email, notify, notified_at, language) in enumerate(
        [
            ("pending", "ada@example.com", True, None, ""),
            ("pending_russian", "olga@example.com", True, None, "ru"),
            ("sent", "bob@example.com", True, sent_at, ""),
            ("not_asked", "eve@example.com", False, None, ""),
            ("no_address", "", True, None, ""),
        ],
        start=1,
    ):
        client = clients.objects.create(
            tenant=tenant,
            number=number,
            name=f"Client {number}",
            email=email,
            accounting_email="books@example.com" if what == "pending" else "",
            language=language,
        )
        account = accounts.objects.create(tenant=tenant, client=client)
        made[what] = changes.objects.create(
            tenant=tenant,
            account=account,
            old_limit=Decimal("0.00"),
            new_limit=Decimal("1250.00"),
            notify=notify,
            notified_at=notified_at,
            idempotency_key=f"credit-{number}",
        ).pk
    return tenant.pk, made


def test_pending_notices_go_out_once_and_sent_ones_never_again(back_to_latest, smtp):  # noqa: F811
    tenant_id, made = old_style_changes(migrate(BEFORE))
    migrate(AFTER)
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    with scopes_disabled():
        carried = dict(OutboxEmail.objects.filter(tenant_id=tenant_id).values_list("key", "status"))
    assert carried == {
        f"credit:{made['pending']}": EmailStatus.QUEUED,
        f"credit:{made['pending_russian']}": EmailStatus.QUEUED,
        f"credit:{made['sent']}": EmailStatus.SENT,
    }

    # A notice task queued by the old code before the upgrade sends nothing now.
    old_task = celery_app.tasks[retired_credit_limit_change_notify.name]
    assert old_task.name == "billing.tasks.credit_limit_change_notify"
    assert old_task.apply(args=(made["pending"],), kwargs={"tenant_id": tenant_id}).get() is False
    assert smtp.accepted == []

    outbox_emails_sweep.apply()  # beat's sweep: what no worker sent
    messages = {tuple(sorted(m["To"].split(", "))): m for m in smtp.messages()}
    assert sorted(messages) == [("ada@example.com", "books@example.com"), ("olga@example.com",)]
    english = messages[("ada@example.com", "books@example.com")]
    assert english["Subject"] == "Northwind: your credit limit is now 1,250.00 EUR"
    assert "from 0.00 EUR to 1,250.00 EUR" in english.get_content()
    russian = messages[("olga@example.com",)]
    assert russian["Subject"].strip() == "Northwind: ваш кредитный лимит теперь 1\xa0250,00\xa0€"
    assert "с 0,00\xa0€ на 1\xa0250,00\xa0€" in russian.get_content()

    # Sent once: the sweep again, or the code owing the same key again, sends nothing more.
    outbox_emails_sweep.apply()
    with scopes_disabled(), transaction.atomic():
        tenant = OutboxEmail.objects.filter(tenant_id=tenant_id).first().tenant
        again = [
            OwedEmail(key=f"credit:{made[what]}", to=("x@example.com",), subject="s", body="b")
            for what in ("pending", "sent")
        ]
        assert emails_enqueue(tenant=tenant, emails=again) == []
    outbox_emails_sweep.apply()
    assert len(smtp.accepted) == 2
    with scopes_disabled():
        statuses = set(
            OutboxEmail.objects.filter(tenant_id=tenant_id).values_list("status", flat=True)
        )
    assert statuses == {EmailStatus.SENT}

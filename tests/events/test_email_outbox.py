"""The e-mail outbox against a real SMTP server on 127.0.0.1 (aiosmtpd in a thread): notices
are owed in the change's transaction, sent after the commit with no transaction or lock held,
never lost when the sender is killed with -9 mid-send, never sent twice for one key, and sent
whatever the script of their subject, body and address."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import psycopg
import pytest
from aiosmtpd.controller import Controller
from celery.exceptions import Retry
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django_scopes import scopes_disabled

from billing.services import account_set_credit_limit
from config.celery import app as celery_app
from core.leases import leases_sweep
from core.stored_text import literal_text
from events.mail import emails_due, emails_send, message_id
from events.outbox import EmailStatus, OutboxEmail, OwedEmail, emails_enqueue
from events.tasks import outbox_emails_sweep
from holds.services import client_place_hold
from tests.factories import ClientFactory, TenantFactory, UserFactory, make_account
from tests.helpers import force_login_verified

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


class Inbox:
    """The SMTP server's handler: keeps what it accepted; `before_accept(envelope)` may look
    around first and answer instead (a refusal, a stall)."""

    def __init__(self):
        self.accepted = []
        self.before_accept = None

    async def handle_DATA(self, server, session, envelope):
        if self.before_accept is not None:
            answer = self.before_accept(envelope)
            if answer:
                return answer
        self.accepted.append(envelope)
        return "250 OK"

    def messages(self):
        return [message_from_bytes(e.content, policy=default_policy) for e in self.accepted]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, and the settings that send to it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture(autouse=True)
def celery_eager():
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


def own_database_connection():
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
        autocommit=True,
    )


def owe(tenant, count, *, prefix="test"):
    with scopes_disabled(), transaction.atomic():
        rows = OutboxEmail.objects.for_tenant(tenant)
        rows.bulk_create(
            [
                OutboxEmail(
                    tenant=tenant,
                    key=f"{prefix}:{i}",
                    to=[f"c{i}@example.com"],
                    subject=f"Notice {i}",
                    body="Hello",
                )
                for i in range(count)
            ]
        )
        return list(rows.filter(key__startswith=f"{prefix}:").values_list("pk", flat=True))


def test_non_ascii_notice_reaches_the_server(smtp):
    tenant = TenantFactory(name="Связь-Плюс")
    client = ClientFactory(tenant=tenant, name="Ольга Иванова", email="olga@пример.рф")
    with scopes_disabled():
        hold = client_place_hold(
            tenant=tenant, client=client, reason=literal_text("Жалоба «спам» — срочно")
        )
    [envelope] = smtp.accepted
    assert envelope.rcpt_tos == ["olga@xn--e1afmkfd.xn--p1ai"]
    [message] = smtp.messages()
    assert message["Subject"].strip() == "Связь-Плюс: your service is on hold"
    body = message.get_content()
    assert "Dear Ольга Иванова" in body and "Жалоба «спам» — срочно" in body
    assert message["Message-ID"] == message_id(tenant_id=tenant.pk, key=f"hold:{hold.pk}")
    with scopes_disabled():
        assert OutboxEmail.objects.get(key=f"hold:{hold.pk}").status == EmailStatus.SENT


def test_credit_notice_to_two_addresses(smtp):
    tenant = TenantFactory()
    client = ClientFactory(tenant=tenant, email="c@example.com", accounting_email="бух@пример.рф")
    with scopes_disabled():
        account_set_credit_limit(account=make_account(client), credit_limit="250", notify=True)
    [envelope] = smtp.accepted
    assert envelope.rcpt_tos == ["c@example.com", "бух@xn--e1afmkfd.xn--p1ai"]


def test_sent_after_the_commit_with_no_transaction_or_lock_open(smtp):
    tenant = TenantFactory()
    client = ClientFactory(tenant=tenant, email="c@example.com")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        sender_pid = cursor.fetchone()[0]
    seen = []

    def look(envelope):
        # The sender's connection, seen from another one while its message arrives.
        with own_database_connection() as other:
            state = other.execute(
                "SELECT state FROM pg_stat_activity WHERE pid = %s", [sender_pid]
            ).fetchone()[0]
            locks = other.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = %s", [sender_pid]
            ).fetchone()[0]
        seen.append((state, locks))

    smtp.before_accept = look
    with scopes_disabled():
        with transaction.atomic():
            client_place_hold(tenant=tenant, client=client, reason=literal_text("Abuse"))
            assert smtp.accepted == []  # owed, not sent, while the change is uncommitted
        assert len(smtp.accepted) == 1
    assert seen == [("idle", 0)]


def test_sending_inside_a_transaction_is_refused(smtp):
    tenant = TenantFactory()
    ids = owe(tenant, 1)
    with scopes_disabled(), transaction.atomic(), pytest.raises(RuntimeError):
        emails_send(tenant=tenant, ids=ids)
    assert smtp.accepted == []


def test_a_rolled_back_change_owes_nothing(smtp):
    tenant = TenantFactory()
    client = ClientFactory(tenant=tenant, email="c@example.com")
    with scopes_disabled():
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            client_place_hold(tenant=tenant, client=client, reason=literal_text("Abuse"))
            1 / 0  # noqa: B018 - the change fails after the e-mail was owed
        assert not OutboxEmail.objects.exists()
    assert smtp.accepted == []


def test_owing_outside_a_transaction_is_refused():
    tenant = TenantFactory()
    email = OwedEmail(key="k", to=("a@example.com",), subject="s", body="b")
    with pytest.raises(RuntimeError):
        emails_enqueue(tenant=tenant, emails=[email])


def test_each_key_once_when_sent_twice_and_concurrently(smtp):
    tenant = TenantFactory()
    ids = owe(tenant, 30)
    barrier = threading.Barrier(4)
    results = []

    def sender():
        barrier.wait()
        try:
            with scopes_disabled():
                results.append(emails_send(tenant=tenant, ids=ids))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with scopes_disabled():
        assert emails_send(tenant=tenant, ids=ids) == 0  # a second run: nothing left
        assert outbox_emails_sweep() == 0
    assert sum(results) == 30
    subjects = sorted(m["Subject"] for m in smtp.messages())
    assert subjects == sorted(f"Notice {i}" for i in range(30))
    with scopes_disabled():
        assert set(OutboxEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


def test_owing_the_same_key_again_sends_nothing_more(smtp):
    tenant = TenantFactory()
    client = ClientFactory(tenant=tenant, email="c@example.com")
    email = OwedEmail(key="expired:1", to=(client.email,), subject="s", body="b")
    for _ in range(2):
        with scopes_disabled(), transaction.atomic():
            emails_enqueue(tenant=tenant, emails=[email])
    assert len(smtp.accepted) == 1


def test_a_refused_address_fails_with_its_reason(smtp):
    tenant = TenantFactory()
    ids = owe(tenant, 2)
    smtp.before_accept = lambda e: "550 No such user" if e.rcpt_tos == ["c0@example.com"] else None
    with scopes_disabled():
        assert emails_send(tenant=tenant, ids=ids) == 1
        failed = OutboxEmail.objects.get(key="test:0")
    assert failed.status == EmailStatus.FAILED and "No such user" in str(failed.error)
    assert [e.rcpt_tos for e in smtp.accepted] == [["c1@example.com"]]


def test_the_refusal_reads_in_the_admins_language_with_the_servers_words(smtp, client):
    tenant = TenantFactory()
    ids = owe(tenant, 1)
    smtp.before_accept = lambda envelope: "550 No such user"
    with translation.override("en"), scopes_disabled():
        emails_send(tenant=tenant, ids=ids)
        failed = OutboxEmail.objects.get(pk=ids[0])
    with translation.override("ru"):
        assert str(failed.error).startswith("Почтовый сервер не принял письмо: ")
        assert "No such user" in str(failed.error)
    with translation.override("en"):
        assert str(failed.error).startswith("The mail server refused it: ")
    force_login_verified(client, UserFactory(is_superuser=True, is_staff=True))
    listed = client.get(
        reverse("admin:events_outboxemail_changelist"), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "Почтовый сервер не принял письмо: " in listed and '"msgid"' not in listed


def test_a_temporary_failure_is_owed_again_and_sent_by_the_sweep(smtp):
    tenant = TenantFactory()
    ids = owe(tenant, 1)
    smtp.before_accept = lambda envelope: "451 Try again later"
    with scopes_disabled():
        with pytest.raises(OSError):
            emails_send(tenant=tenant, ids=ids)
        email = OutboxEmail.objects.get(pk=ids[0])
        assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
        assert "Try again later" in str(email.error)
        assert emails_due() == {}  # not before its backoff
        smtp.before_accept = None
        later = email.next_attempt_at + timedelta(seconds=1)
        assert emails_due(now=later) == {tenant.pk: ids}
        assert emails_send(tenant=tenant, ids=ids, now=later) == 1
    assert len(smtp.accepted) == 1


def test_the_lease_sweep_gives_a_dead_senders_email_back_to_the_outbox(smtp):
    tenant = TenantFactory()
    ids = owe(tenant, 1)
    past = timezone.now() - timedelta(minutes=1)
    with scopes_disabled():
        OutboxEmail.objects.filter(pk__in=ids).update(
            status=EmailStatus.SENDING, attempts=1, lease_expires_at=past, next_attempt_at=past
        )
        assert leases_sweep() == {"events.outboxemail:requeued": 1}
        assert outbox_emails_sweep() == 1
        assert OutboxEmail.objects.get(pk=ids[0]).status == EmailStatus.SENT
    assert len(smtp.accepted) == 1


def test_a_sender_killed_mid_send_loses_nothing_and_sends_once(smtp, tmp_path):
    """The sender, in a process of its own, is killed with -9 while the server holds its
    message unanswered; the sweep, once the lease has expired, sends it; once only."""
    tenant = TenantFactory()
    ids = owe(tenant, 1)
    stalled, release = threading.Event(), threading.Event()

    def stall(envelope):
        stalled.set()
        release.wait(30)
        return "421 Closing"  # the sender is dead: nothing was delivered

    smtp.before_accept = stall
    db = connection.settings_dict
    env = os.environ | {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "CLIENTDESK_TESTING": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    script = (
        "import django; django.setup()\n"
        "from events.tasks import outbox_emails_send\n"
        f"outbox_emails_send({tenant.pk}, {ids!r})\n"
    )
    log = tmp_path / "sender.log"
    sender = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env | {"DJANGO_SETTINGS_MODULE": "config.settings"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        assert stalled.wait(60), log.read_text()
        with scopes_disabled():
            assert OutboxEmail.objects.get(pk=ids[0]).status == EmailStatus.SENDING
        os.kill(sender.pid, signal.SIGKILL)
        sender.wait(timeout=30)
    finally:
        release.set()
        if sender.poll() is None:
            sender.kill()
    smtp.before_accept = None
    time.sleep(0.2)
    assert smtp.accepted == []
    with scopes_disabled():
        email = OutboxEmail.objects.get(pk=ids[0])
        assert email.status == EmailStatus.SENDING  # the dead sender's lease
        assert emails_due() == {}  # a living sender is never taken over
        after_lease = email.lease_expires_at + timedelta(seconds=1)
        assert emails_due(now=after_lease) == {tenant.pk: ids}
        assert emails_send(tenant=tenant, ids=ids, now=after_lease) == 1
        assert emails_send(tenant=tenant, ids=ids, now=after_lease) == 0
        assert OutboxEmail.objects.get(pk=ids[0]).status == EmailStatus.SENT
    assert len(smtp.accepted) == 1


def test_a_hold_notice_is_owed_without_text_and_keeps_the_text_it_was_sent_with(smtp):
    tenant = TenantFactory(name="Fibra Norte")
    client = ClientFactory(tenant=tenant, name="Ada Brandt", email="ada@example.com")
    with scopes_disabled():
        with transaction.atomic():
            hold = client_place_hold(tenant=tenant, client=client, reason=literal_text("Audit"))
            owed = OutboxEmail.objects.get(key=f"hold:{hold.pk}")
            # Owed in the hold's transaction with what its text is made from, not the text.
            assert (owed.subject, owed.body, owed.context) == ("", "", {"hold": hold.pk})
        sent = OutboxEmail.objects.get(pk=owed.pk)
    [message] = smtp.messages()
    assert sent.status == EmailStatus.SENT
    assert sent.subject == message["Subject"].strip() == "Fibra Norte: your service is on hold"
    assert sent.body == message.get_content().replace("\r\n", "\n").rstrip("\n") + "\n"
    assert "Dear Ada Brandt" in sent.body and "Reason: Audit" in sent.body


def test_a_notice_whose_hold_is_gone_fails_with_its_reason_and_sends_nothing(smtp):
    from holds.models import NotificationKind
    from holds.services import notifications_create

    tenant = TenantFactory()
    client = ClientFactory(tenant=tenant, email="c@example.com")
    with scopes_disabled():
        with transaction.atomic():
            [pk] = notifications_create(
                tenant=tenant,
                rows=[(client.pk, NotificationKind.HOLD_SET, "hold:gone", None, 987654321)],
            )
        email = OutboxEmail.objects.get(pk=pk)
    assert smtp.accepted == []
    assert email.status == EmailStatus.FAILED and email.body == ""
    assert "what it speaks of is gone" in str(email.error)


def test_owing_without_text_needs_a_renderer_for_the_kind():
    tenant = TenantFactory()
    email = OwedEmail(key="k", to=("a@example.com",), kind="no-such-kind", context={"x": 1})
    with transaction.atomic(), pytest.raises(ValueError, match="no-such-kind"):
        emails_enqueue(tenant=tenant, emails=[email])
    with scopes_disabled():
        assert not OutboxEmail.objects.exists()


def _tenant_wording(tenant, kind, body, subject="Notice"):
    """A tenant's wording as an older release could store it (without the model's check)."""
    from holds.models import NotificationTemplate

    with scopes_disabled():
        NotificationTemplate.objects.create(tenant=tenant, kind=kind, subject=subject, body=body)


def test_a_wording_that_does_not_compile_fails_its_notices_and_the_rest_are_sent(smtp):
    from holds.models import NotificationKind

    tenant = TenantFactory()
    _tenant_wording(tenant, NotificationKind.HOLD_SET, "Dear {% if client.name %}{{ client.name }}")
    client = ClientFactory(tenant=tenant, email="c@example.com")
    with scopes_disabled():
        with transaction.atomic():  # a hold's notice and an e-mail with its own text, together
            hold = client_place_hold(tenant=tenant, client=client, reason=literal_text("Audit"))
        held = OutboxEmail.objects.get(key=f"hold:{hold.pk}")
        [other] = owe(tenant, 1)
        OutboxEmail.objects.filter(pk=held.pk).update(status=EmailStatus.QUEUED, attempts=0)
        assert emails_send(tenant=tenant, ids=[held.pk, other]) == 1
        held.refresh_from_db()
    assert [m["Subject"] for m in smtp.messages()] == ["Notice 0"]
    assert held.status == EmailStatus.FAILED and held.body == ""
    assert "Its text could not be made: TemplateSyntaxError" in str(held.error)
    assert emails_due(now=timezone.now() + timedelta(days=1)) == {}  # nothing left to retry


def test_a_wording_that_renders_to_nothing_fails_with_its_reason(smtp):
    from holds.models import NotificationKind

    tenant = TenantFactory()
    _tenant_wording(tenant, NotificationKind.HOLD_SET, "{% if False %}Hello{% endif %}")
    client = ClientFactory(tenant=tenant, email="c@example.com")
    with scopes_disabled():
        with transaction.atomic():
            hold = client_place_hold(tenant=tenant, client=client, reason=literal_text("Audit"))
        email = OutboxEmail.objects.get(key=f"hold:{hold.pk}")
    assert smtp.accepted == []
    assert email.status == EmailStatus.FAILED
    assert "its wording renders to nothing" in str(email.error)


def test_a_retry_sends_the_text_of_the_first_attempt(smtp):
    tenant = TenantFactory(name="Fibra Norte")
    client = ClientFactory(tenant=tenant, name="Ada Brandt", email="ada@example.com")
    smtp.before_accept = lambda envelope: "451 Try again later"
    with scopes_disabled():
        with pytest.raises(Retry), transaction.atomic():  # the sending task, to retry later
            hold = client_place_hold(tenant=tenant, client=client, reason=literal_text("Audit"))
        email = OutboxEmail.objects.get(key=f"hold:{hold.pk}")
        assert email.status == EmailStatus.QUEUED and "Dear Ada Brandt" in email.body
        type(client).objects.filter(pk=client.pk).update(name="Renamed meanwhile")
        smtp.before_accept = None
        later = email.next_attempt_at + timedelta(seconds=1)
        assert emails_send(tenant=tenant, ids=[email.pk], now=later) == 1
    [message] = smtp.messages()
    assert "Dear Ada Brandt" in message.get_content()

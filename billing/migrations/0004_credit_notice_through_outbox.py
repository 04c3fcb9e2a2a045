"""Credit-limit notices move to the e-mail outbox (events.OutboxEmail). Before it, a change made
with "Notify customer" (`notify`) queued a Celery task that e-mailed the client and stamped
`notified_at`. Each notice is carried into the outbox under the key the outbox uses for it,
"credit:<change id>", so that after the upgrade the client gets it once:
- sent (`notified_at` set): carried as sent, so that nothing owes it again;
- decided but not sent (`notified_at` empty: its task was still queued or retrying, or gave up
  while the mail server was down): carried as owed, rendered as the outbox's code renders it (in
  the client's language, else the tenant's), due at once, so that beat's outbox sweep sends it.
  The old task, if it is still in the broker, no longer exists: the new worker drops it. Old
  workers must be stopped before the upgrade, or one could send a notice this reads as unsent.
A change whose client has no e-mail address owes nothing, as before. Then the column goes."""

import zoneinfo

from django.db import migrations
from django.utils import timezone

CHUNK = 1000


def credit_notices_into_the_outbox(apps, schema_editor):
    change_model = apps.get_model("billing", "CreditLimitChange")
    outbox = apps.get_model("events", "OutboxEmail")
    notices = (
        change_model.objects.filter(notify=True)
        .select_related("account__client", "tenant")
        .order_by("pk")
    )
    now = timezone.now()
    rows = []
    for change in notices.iterator(chunk_size=CHUNK):
        row = _outbox_row(outbox, change, now)
        if row is not None:
            rows.append(row)
        if len(rows) >= CHUNK:
            outbox.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    outbox.objects.bulk_create(rows, ignore_conflicts=True)


def _outbox_row(outbox, change, now):
    from billing.services import CREDIT_NOTICE_KIND, credit_notice_key

    client = change.account.client
    if change.notified_at is not None:
        return outbox(
            tenant_id=change.tenant_id,
            key=credit_notice_key(change.pk),
            kind=CREDIT_NOTICE_KIND,
            client_id=client.pk,
            to=[],
            subject="(sent before the outbox)",
            body="",
            created_at=change.created_at,
            status="sent",
            finished_at=change.notified_at,
        )
    notice = _rendered(change, client)
    if notice is None:
        return None
    return outbox(
        tenant_id=change.tenant_id,
        key=notice.key[:120],
        kind=notice.kind[:40],
        client_id=notice.client_id,
        to=list(notice.to),
        subject=notice.subject[:300],
        body=notice.body,
        created_at=change.created_at,
        status="queued",
        next_attempt_at=now,
    )


def _rendered(change, client):
    """The notice the outbox's code would owe for this change (billing.services)."""
    from billing.services import credit_notice_email
    from core.languages import in_language_of

    # A historical model has the tenant's fields but not its properties: the zone its
    # formatting reads is given here.
    change.tenant.zone = zoneinfo.ZoneInfo(change.tenant.time_zone)
    with in_language_of(client, change.tenant):
        return credit_notice_email(change=change, client=client, tenant=change.tenant)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_tenant_keyed_links"),
        ("events", "0004_email_outbox"),
    ]

    operations = [
        migrations.RunPython(credit_notices_into_the_outbox, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="creditlimitchange",
            name="notified_at",
        ),
    ]

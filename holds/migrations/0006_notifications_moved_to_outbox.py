"""Client notices move to the e-mail outbox (events.OutboxEmail). The notices already sent are
carried over under their keys as sent, so that nothing is sent to a client a second time
("expiring:<subscription>", "expired:<subscription>", "hold:<hold>" are the outbox's keys too).
A notice still unsent is not carried over: the expiry job owes its expiring and expired notices
again under the same keys on its next run; a hold's notice still unsent at the upgrade is not
sent."""

from django.db import migrations


def sent_notices_into_the_outbox(apps, schema_editor):
    notification = apps.get_model("holds", "Notification")
    outbox = apps.get_model("events", "OutboxEmail")
    sent = notification.objects.filter(sent_at__isnull=False).order_by("pk")
    for start in range(0, sent.count(), 1000):
        outbox.objects.bulk_create(
            [
                outbox(
                    tenant_id=row.tenant_id,
                    key=row.key[:120],
                    kind=row.kind[:40],
                    client_id=row.client_id,
                    to=[],
                    subject="(sent before the outbox)",
                    body="",
                    created_at=row.created_at,
                    status="sent",
                    finished_at=row.sent_at,
                )
                for row in sent[start : start + 1000]
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("holds", "0005_tenant_keyed_links"),
        ("events", "0004_email_outbox"),
    ]

    operations = [
        migrations.RunPython(sent_notices_into_the_outbox, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="Notification",
        ),
    ]

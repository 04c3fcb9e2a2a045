"""Why a webhook delivery's last try failed and why an outbox e-mail was refused hold their
messages (core/stored_text.py) as JSON, read in each reader's language, with what the receiver
or the mail server said kept as it was inside; an error written before keeps its sentence."""

from django.db import migrations, models

from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ('events', '0011_translatable_labels'),
    ]

    operations = [
        text_column_to_stored_text(
            'events',
            'webhookdelivery',
            'error',
            models.CharField(max_length=500, blank=True),
            verbose_name='error',
        ),
        text_column_to_stored_text(
            'events',
            'outboxemail',
            'error',
            models.TextField(blank=True, verbose_name='error'),
            verbose_name='error',
        ),
    ]

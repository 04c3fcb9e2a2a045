"""Why a webhook endpoint was disabled holds its message (core/stored_text.py) as JSON, read
in each reader's language; a reason written before keeps its sentence, shown as it was."""

from django.db import migrations, models

from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0009_webhook_delivery_age_index"),
    ]

    operations = [
        text_column_to_stored_text(
            "events",
            "webhookendpoint",
            "disabled_reason",
            models.CharField(max_length=300, blank=True),
        ),
    ]

"""A refused import row's field and reason hold their messages (core/stored_text.py) as
JSON, read in each reader's language; rows refused before keep their words, shown as they
were."""

from django.db import migrations, models

from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0015_translatable_names"),
    ]

    operations = [
        text_column_to_stored_text(
            "clients",
            "clientimportrefusal",
            "field",
            models.CharField(max_length=100, blank=True),
        ),
        text_column_to_stored_text("clients", "clientimportrefusal", "reason", models.TextField()),
    ]

"""Why an import or a bulk action failed holds its message (core/stored_text.py) as JSON, read
in each reader's language; an error written before keeps its sentence, shown as it was."""

from django.db import migrations, models

from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ('clients', '0018_bulk_action_title_stored_text'),
    ]

    operations = [
        text_column_to_stored_text(
            'clients',
            'clientimport',
            'error',
            models.TextField(blank=True),
            verbose_name='error',
        ),
        text_column_to_stored_text(
            'clients',
            'clientbulkaction',
            'error',
            models.TextField(blank=True),
            verbose_name='error',
        ),
    ]

"""Why a scheduled job's run failed holds its message (core/stored_text.py) as JSON, read in
each reader's language; an error written before (a traceback) keeps its text."""

from django.db import migrations, models

from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ('core', '0003_translatable_labels'),
    ]

    operations = [
        text_column_to_stored_text(
            'core',
            'jobrun',
            'error',
            models.TextField(blank=True),
            verbose_name='error',
        ),
    ]

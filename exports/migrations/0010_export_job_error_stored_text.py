"""Why an export failed holds its message (core/stored_text.py) as JSON, read in each reader's
language; an error written before keeps its sentence, shown as it was."""

from django.db import migrations, models

from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ('exports', '0009_export_job_title_stored_text'),
    ]

    operations = [
        text_column_to_stored_text(
            'exports',
            'exportjob',
            'error',
            models.TextField(blank=True),
            verbose_name='error',
        ),
    ]

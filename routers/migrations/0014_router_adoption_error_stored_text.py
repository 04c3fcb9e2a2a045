"""Why an adoption failed holds its message (core/stored_text.py) as JSON, read in each
reader's language; an error written before keeps its sentence, shown as it was."""

from django.db import migrations, models

from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ('routers', '0013_translatable_labels'),
    ]

    operations = [
        text_column_to_stored_text(
            'routers',
            'routeradoption',
            'error',
            models.TextField(blank=True, verbose_name='error'),
            verbose_name='error',
        ),
    ]

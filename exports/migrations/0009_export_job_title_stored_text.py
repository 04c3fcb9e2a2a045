"""An export's title holds its message (core/stored_text.py) as JSON, so that the Exports page
reads it in each colleague's language; a title written before keeps its words, shown as they
were."""

from django.db import migrations, models

import core.stored_text
from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ('exports', '0008_translatable_labels'),
    ]

    operations = [
        text_column_to_stored_text(
            'exports', 'exportjob', 'title', models.CharField(max_length=255, blank=True)
        ),
        migrations.AlterField(
            model_name='exportjob',
            name='title',
            field=core.stored_text.StoredTextField(
                blank=True, default=str, help_text='What the operator sees.', verbose_name='title'
            ),
        ),
    ]

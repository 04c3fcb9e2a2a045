"""Why a hold was set and why it was lifted hold their messages (core/stored_text.py) as JSON,
read in each reader's language (the job's debt, a top-up's release); a reason written before
keeps its sentence, shown as it was, and an operator's words stay theirs. Backwards, a message
becomes its msgid, cut to the old 500 characters."""

import core.stored_text
from django.db import migrations, models

from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ('holds', '0008_translatable_labels'),
    ]

    operations = [
        text_column_to_stored_text(
            'holds',
            'clienthold',
            'reason',
            models.CharField(max_length=500, verbose_name='Reason'),
        ),
        text_column_to_stored_text(
            'holds',
            'clienthold',
            'lift_reason',
            models.CharField(max_length=500, blank=True),
        ),
        migrations.AlterField(
            model_name='clienthold',
            name='reason',
            field=core.stored_text.StoredTextField(default=str, verbose_name='Reason'),
        ),
        migrations.AlterField(
            model_name='clienthold',
            name='lift_reason',
            field=core.stored_text.StoredTextField(
                blank=True, default=str, verbose_name='Reason for release'
            ),
        ),
    ]

"""Why the router refused an account's last change holds its message (core/stored_text.py) as
JSON, read in each reader's language; an error written before keeps its sentence, shown as it
was."""

from django.db import migrations, models

from core.stored_text import text_column_to_stored_text


class Migration(migrations.Migration):
    dependencies = [
        ('routers', '0009_router_adoption'),
    ]

    operations = [
        text_column_to_stored_text(
            'routers',
            'pppoeaccount',
            'sync_error',
            models.CharField(max_length=500, blank=True),
        ),
    ]

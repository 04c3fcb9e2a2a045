"""The runs of the scheduled jobs moved to core (`core.JobRun`, one record for every app's
jobs): copy every row, with its id, to core's table, then drop this app's."""

from django.core.management.color import no_style
from django.db import migrations

COLUMNS = (
    "id, tenant_id, job, started_at, finished_at, status, result, error, queries, "
    "lease_expires_at, heartbeat_at, attempts"
)


def copy_runs_to_core(apps, schema_editor):
    connection = schema_editor.connection
    schema_editor.execute(
        f"INSERT INTO core_jobrun ({COLUMNS}) SELECT {COLUMNS} FROM holds_jobrun"  # noqa: S608
    )
    for statement in connection.ops.sequence_reset_sql(no_style(), [apps.get_model("core", "JobRun")]):
        schema_editor.execute(statement)


def copy_runs_back(apps, schema_editor):
    schema_editor.execute(
        f"INSERT INTO holds_jobrun ({COLUMNS}) SELECT {COLUMNS} FROM core_jobrun"  # noqa: S608
    )
    connection = schema_editor.connection
    for statement in connection.ops.sequence_reset_sql(no_style(), [apps.get_model("holds", "JobRun")]):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("holds", "0002_leases"),
        ("core", "0001_jobrun"),
    ]

    operations = [
        migrations.RunPython(copy_runs_to_core, copy_runs_back),
        migrations.DeleteModel(name="JobRun"),
    ]

"""The runs of every scheduled job, core's from now on (they were the holds app's `JobRun`;
holds' migration 0003 copies the rows over and drops the old table)."""

import django.db.models.deletion
import django.utils.timezone

import core.models
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="JobRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "lease_expires_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="Until when the worker that runs it holds it.",
                        null=True,
                    ),
                ),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                (
                    "attempts",
                    models.PositiveSmallIntegerField(default=0, help_text="Claims so far."),
                ),
                ("job", models.CharField(choices=core.models.job_choices, max_length=32)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("running", "Running"),
                            ("ok", "Done"),
                            ("skipped", "Skipped (another run was under way)"),
                            ("failed", "Failed"),
                        ],
                        default="running",
                        max_length=10,
                    ),
                ),
                ("result", models.JSONField(blank=True, default=dict)),
                ("error", models.TextField(blank=True)),
                ("queries", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "tenant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.tenant",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["tenant", "job", "-started_at"], name="core_jobrun_last_idx"
                    ),
                    models.Index(
                        condition=models.Q(("status", "running")),
                        fields=["lease_expires_at"],
                        name="core_jobrun_running_idx",
                    ),
                ],
            },
        ),
    ]

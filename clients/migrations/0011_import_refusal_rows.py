"""An import's refused rows move from a JSON list on the import, rewritten whole by every chunk,
to a row each, appended by the chunk that refused them."""

import core.tenant_keys
import django.db.models.deletion
from django.db import migrations, models


def refusals_from_json(apps, schema_editor):
    imports = apps.get_model("clients", "ClientImport")
    refusal = apps.get_model("clients", "ClientImportRefusal")
    for job in imports.objects.exclude(refused=[]).iterator(chunk_size=100):
        refusal.objects.bulk_create(
            [
                refusal(
                    tenant_id=job.tenant_id,
                    job_id=job.pk,
                    line=row.get("line") or 0,
                    field=(row.get("field") or "")[:100],
                    reason=row.get("reason") or "",
                    cells=row.get("cells") or [],
                )
                for row in job.refused
            ],
            batch_size=1000,
        )


def refusals_to_json(apps, schema_editor):
    imports = apps.get_model("clients", "ClientImport")
    refusal = apps.get_model("clients", "ClientImportRefusal")
    for job in imports.objects.iterator(chunk_size=100):
        rows = refusal.objects.filter(job_id=job.pk).order_by("line", "id")
        job.refused = [
            {"line": r.line, "field": r.field, "reason": r.reason, "cells": r.cells} for r in rows
        ]
        job.save(update_fields=["refused"])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0010_tenant_keyed_links"),
        ("tenancy", "0007_tenant_event_retention_days"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClientImportRefusal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("line", models.PositiveIntegerField()),
                ("field", models.CharField(blank=True, max_length=100)),
                ("reason", models.TextField()),
                ("cells", models.JSONField(default=list)),
                (
                    "job",
                    core.tenant_keys.TenantForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="refusals",
                        to="clients.clientimport",
                    ),
                ),
                (
                    "tenant",
                    core.tenant_keys.TenantField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tenancy.tenant",
                    ),
                ),
            ],
            options={
                "ordering": ["line", "id"],
                "indexes": [models.Index(fields=["job", "line"], name="client_import_refusal_idx")],
            },
        ),
        migrations.RunPython(refusals_from_json, refusals_to_json),
        migrations.RemoveField(
            model_name="clientimport",
            name="refused",
        ),
    ]

"""The Celery app. Beat's whole schedule is declared here, in one place."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("clientdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from django.conf import settings  # noqa: E402 - after DJANGO_SETTINGS_MODULE is set

app.conf.beat_schedule = {
    # Routers: read /ppp/active from every enabled router, set each PPPoE account
    # Online / Offline / Unknown, and reconcile holds on the routers.
    "routers-poll": {
        "task": "routers.tasks.routers_poll",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # Messaging: rebuild the rollups of the days that changed; then, hourly, charge
    # each client's closed days (a day closes at midnight in the tenant's time zone, so the
    # hourly run charges it within the hour wherever the tenant is).
    "messaging-rollups": {
        "task": "messaging.tasks.messaging_rollups_refresh_all",
        "schedule": 300.0,
    },
    "messaging-charges": {
        "task": "messaging.tasks.messaging_charges_post_all",
        "schedule": crontab(minute=15),
    },
    # Financial holds every few minutes, expiry and auto-renewal hourly (intervals in
    # settings, from the environment); each fans out one task per tenant.
    "holds-financial": {
        "task": "holds.tasks.financial_holds_run_all",
        "schedule": float(settings.HOLDS_FINANCIAL_INTERVAL),
        "options": {"expires": settings.HOLDS_FINANCIAL_INTERVAL * 0.9},
    },
    # Events older than each tenant's retention, deleted in batches (events.services).
    "events-prune": {
        "task": "events.tasks.events_prune_run_all",
        "schedule": 24 * 3600.0,
        "options": {"expires": 23 * 3600.0},
    },
    # The API's kept answers to Idempotency-Key retries, past API_IDEMPOTENCY_KEEP_HOURS,
    # deleted in batches (tenancy.services).
    "api-idempotency-purge": {
        "task": "tenancy.tasks.api_idempotency_purge_run_all",
        "schedule": 3600.0,
        "options": {"expires": 3000.0},
    },
    "subscriptions-expiry": {
        "task": "subscriptions.tasks.expiry_run_all",
        "schedule": float(settings.HOLDS_EXPIRY_INTERVAL),
        "options": {"expires": settings.HOLDS_EXPIRY_INTERVAL * 0.9},
    },
    # Jobs that stop (core/leases.py): fail or requeue the exports and job runs whose worker
    # died (OOM killer, restart) once their lease expired, without waiting for redelivery.
    "leases-sweep": {
        "task": "core.tasks.leases_sweep",
        "schedule": float(settings.LEASE_SWEEP_INTERVAL),
        "options": {"expires": settings.LEASE_SWEEP_INTERVAL * 0.9},
    },
    # Exports: delete finished jobs and their files once they are a week old.
    "exports-purge": {
        "task": "exports.tasks.export_jobs_purge_expired",
        "schedule": crontab(minute=40, hour=3),
    },
}

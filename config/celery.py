"""The Celery app. Beat's whole schedule is declared here, in one place."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("clientdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# name -> entry; later issues add their jobs here.
app.conf.beat_schedule = {
    # Routers (issue 7): read /ppp/active from every enabled router, set each PPPoE account
    # Online / Offline / Unknown, and reconcile holds on the routers.
    "routers-poll": {
        "task": "routers.tasks.routers_poll",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    # Messaging (issue 8): rebuild the rollups of the days that changed; then, hourly, charge
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
}

"""The Celery app. Beat's whole schedule is declared here, in one place."""

import os

from celery import Celery

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
}

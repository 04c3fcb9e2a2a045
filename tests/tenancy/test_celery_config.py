"""Beat's schedule is declared in one place and names only tasks the worker knows; the
settings follow DESIGN.md's Celery pitfalls."""

from django.conf import settings

from config.celery import app


def test_every_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule, "beat has nothing to run"
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, f"beat entry {name} names unknown {entry['task']}"


def test_the_exports_purge_runs_daily():
    assert "exports-purge" in app.conf.beat_schedule


def test_celery_settings_guard_against_lost_and_duplicate_tasks():
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    assert visibility is None or visibility > 2 * settings.CELERY_TASK_TIME_LIMIT

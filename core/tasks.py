"""Celery entry points of the shared pieces. Beat's schedule is in config/celery.py."""

from celery import shared_task


@shared_task(acks_late=True)
def leases_sweep() -> dict[str, int]:
    """Beat: fail or requeue the work whose worker stopped (core/leases.py)."""
    from django_scopes import scopes_disabled

    from .leases import leases_sweep as sweep

    with scopes_disabled():
        return sweep()

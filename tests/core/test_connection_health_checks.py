"""A persistent connection is asked `SELECT 1` before a request uses it unless it answered a
request without error within the last HEALTH_CHECK_FRESH_SECONDS (core/postgresql/base.py)."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, connections

from core.postgresql import base

pytestmark = pytest.mark.django_db(transaction=True)  # autocommit, as between requests


@pytest.fixture
def checks(monkeypatch):
    """The health checks the connection runs, counted."""
    connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not its proxy
    connection.ensure_connection()
    monkeypatch.setattr(connection, "close_at", None)  # kept for the test's requests
    monkeypatch.setattr(connection, "health_check_enabled", True)
    made = []
    usable = connection.is_usable

    def counted():
        made.append(1)
        return usable()

    monkeypatch.setattr(connection, "is_usable", counted)
    return made


def request(statement: str = "SELECT 2") -> None:
    request_started.send(sender=None)
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(statement)
    finally:
        request_finished.send(sender=None)


def test_a_connection_that_just_answered_is_not_checked_again(checks):
    request()
    checks.clear()
    request()
    request()
    assert checks == []


def test_an_idle_connection_is_checked_before_it_is_used(checks, monkeypatch):
    request()
    checks.clear()
    monkeypatch.setattr(base, "HEALTH_CHECK_FRESH_SECONDS", 0.0)
    request()
    assert checks == [1]


def test_a_connection_whose_request_failed_is_checked_at_its_end(checks):
    request()
    checks.clear()
    with pytest.raises(Exception, match="no_such_table"):
        request("SELECT * FROM no_such_table")
    assert checks == [1]  # and closed, were it unusable

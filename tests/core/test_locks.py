"""The one advisory-lock module: stable namespaces that cannot collide, a lock held by another
connection is refused, and a lock is released when its holder leaves the block."""

import psycopg
import pytest
from django.db import connection

from core.locks import advisory_lock, advisory_locks, lock_namespace

pytestmark = pytest.mark.django_db(transaction=True)


def other_connection():
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    )


def test_a_namespace_is_stable_and_registered_once():
    assert lock_namespace("tests.stable") == lock_namespace("tests.stable")
    assert lock_namespace("tests.stable") != lock_namespace("tests.other")


def test_two_names_with_one_key_are_refused(monkeypatch):
    from core import locks

    key = lock_namespace("tests.first")
    monkeypatch.setattr(locks.zlib, "crc32", lambda data: key)
    with pytest.raises(ValueError, match="share the key"):
        lock_namespace("tests.second")


def test_a_lock_held_elsewhere_is_refused_and_released_after_the_block():
    namespace = lock_namespace("tests.single")
    with other_connection() as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [namespace, 7])
        with advisory_lock(namespace, 7) as held:
            assert held is False
        with advisory_lock(namespace, 8) as held:
            assert held is True
            granted = other.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, 8])
            assert granted.fetchone()[0] is False
        granted = other.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, 8])
        assert granted.fetchone()[0] is True


def test_many_locks_in_one_statement_yield_only_those_held_here():
    namespace = lock_namespace("tests.many")
    with other_connection() as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [namespace, 2])
        with advisory_locks(namespace, [1, 2, 3]) as held:
            assert sorted(held) == [1, 3]
        free = other.execute(
            "SELECT pg_try_advisory_lock(%s, 1) AND pg_try_advisory_lock(%s, 3)",
            [namespace, namespace],
        )
        assert free.fetchone()[0] is True

"""PostgreSQL advisory locks: one key scheme for every job that must run once at a time.

A lock is the pair (namespace, object id). Each use registers its namespace by a dotted name
(`"routers.poll"`, `"holds.expiry"`); the namespace's number is derived from the name, so it is
stable across processes and releases, and registering two names that map to one number fails at
import rather than letting two jobs block each other. The object id is the second key: the
tenant for a per-tenant job, the router for the poller.

Session-level locks: they are taken and released by one statement each, outside any
transaction the job opens, and a worker that dies (kill -9) releases them with its connection.
`advisory_xact_lock` is the waiting, transaction-level kind of the same keys.
On other databases (the SQLite demo, which runs one worker and serialises writers itself) every
lock is granted.
"""

import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connection

_NAMESPACES: dict[int, str] = {}


def lock_namespace(name: str) -> int:
    """The number of the namespace `name`, registered once per process."""
    key = zlib.crc32(name.encode()) & 0x7FFFFFFF
    owner = _NAMESPACES.setdefault(key, name)
    if owner != name:
        raise ValueError(f"advisory lock namespaces {owner!r} and {name!r} share the key {key}")
    return key


def _locking() -> bool:
    return connection.vendor == "postgresql"


@contextmanager
def advisory_lock(namespace: int, object_id: int) -> Iterator[bool]:
    """Yield True when this process now holds (namespace, object_id), False when another does."""
    if not _locking():
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, object_id])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, object_id])


@contextmanager
def advisory_locks(namespace: int, object_ids: Iterable[int]) -> Iterator[list[int]]:
    """Yield the ids among `object_ids` this process now holds, taken in one statement; the
    others are held elsewhere."""
    ids = list(object_ids)
    if not ids or not _locking():
        yield ids
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id WHERE pg_try_advisory_lock(%s, id::int)",
            [ids, namespace],
        )
        held = [row[0] for row in cursor.fetchall()]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, id::int) FROM unnest(%s::bigint[]) AS id",
                    [namespace, held],
                )


def advisory_xact_lock(namespace: int, object_id: int) -> None:
    """Wait for (namespace, object_id) and hold it until the current transaction ends: for
    writes that must run one after the other rather than be skipped (the try-locks above)."""
    if not _locking():
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, object_id])

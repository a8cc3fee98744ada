"""Forcing an interleaving with PostgreSQL itself: see who waits for a lock.

Race tests hold a row (or table) locked in one transaction, send requests that reach it and
wait, then release them in a known order. Nothing of ours is patched to get there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections, transaction


def blocked_on_locks() -> int:
    """Connections to this test database that wait for a lock right now."""
    with connection.cursor() as cursor:
        # Activity is a per-transaction snapshot: drop it, or the first count is all we see.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        (count,) = cursor.fetchone()
    return int(count)


def wait_until_blocked(count: int = 1, *, seconds: float = 10.0) -> bool:
    """Wait until ``count`` connections wait for a lock; False if they never do in time."""
    deadline = time.monotonic() + seconds
    while blocked_on_locks() < count:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def on_its_own_connection(call: Callable[[], Any]) -> Any:
    """Run ``call`` (in a worker thread) and close the thread's database connections after it."""
    try:
        return call()
    finally:
        connections.close_all()


def _in_a_thread(work: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=on_its_own_connection, args=(work,))
    thread.start()
    return thread


def interleave(
    first: Callable[[], object],
    second: Callable[[], object],
    meanwhile: Callable[[], object] = lambda: None,
) -> None:
    """``first`` runs in a transaction held open after it, on its own connection; ``second``
    starts on another and runs until it waits for a lock ``first`` holds; ``meanwhile`` runs
    then (a third party), and only after it does ``first`` commit and both finish."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            first()
            holding.set()
            release.wait(10)

    holder = _in_a_thread(hold)
    assert holding.wait(10)
    waiter = _in_a_thread(second)
    try:
        assert wait_until_blocked(), "the second never waited for the first one's lock"
        meanwhile()
    finally:
        release.set()
        holder.join()
        waiter.join()

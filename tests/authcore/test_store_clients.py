"""The shared store's per-thread Redis clients: one connection per thread, never shared, and
never carried across a fork (Celery's prefork workers, gunicorn with --preload)."""

from __future__ import annotations

import os
import threading

from authcore.store import shared_store


def _client_id_seen_by_redis() -> int:
    client = shared_store().redis
    assert client is not None
    return int(client.client_id())  # type: ignore[arg-type]  # CLIENT ID of this connection


def test_a_thread_keeps_its_connection_and_threads_do_not_share_one() -> None:
    mine = _client_id_seen_by_redis()
    assert _client_id_seen_by_redis() == mine
    theirs: list[int] = []
    thread = threading.Thread(target=lambda: theirs.append(_client_id_seen_by_redis()))
    thread.start()
    thread.join()
    assert theirs and theirs[0] != mine


def test_a_forked_child_opens_its_own_connection() -> None:
    parent = _client_id_seen_by_redis()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what Redis calls its connection, then leave at once
        try:
            os.write(write, str(_client_id_seen_by_redis()).encode())
        finally:
            os._exit(0)
    os.close(write)
    child = int(os.read(read, 64) or b"0")
    os.waitpid(pid, 0)
    assert child and child != parent
    assert _client_id_seen_by_redis() == parent  # the parent's connection still answers

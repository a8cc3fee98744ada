"""This process's id, read without a system call.

``os.getpid()`` is a system call on Linux (glibc stopped caching it in 2.25), and the request
path asks for it several times per request to notice a fork: the store's per-thread Redis
client (``authcore.store.SharedStore.redis``) and each write of a prometheus_client
multiprocess value (``authcore.metrics``). Under load a system call made while holding the
GIL is also a point where the kernel may switch the thread out, stalling the worker's other
threads with it: in a profile of a gunicorn worker (py-spy, GIL holder), those ``getpid``
calls were ~8 % of the samples, though an A/B under load gained only ~1.5 % (docs/benchmarks.md,
eighth pass). The id only changes in the child of a fork, and every fork
that goes on running Python (``os.fork``, multiprocessing, Celery's prefork pool, gunicorn)
runs the hooks of ``os.register_at_fork``: the id is read once here and again there.
"""

from __future__ import annotations

import os

_pid = os.getpid()


def _after_fork_in_child() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork_in_child)


def current_pid() -> int:
    """``os.getpid()``, as of the last fork."""
    return _pid

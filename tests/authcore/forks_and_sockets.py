"""Helpers the store and process tests share: run code in a forked child, and check that a
Redis socket blocks with its timeout kept by the kernel (``authcore.redis_connection``)."""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Callable

import pytest

from authcore.store import SOCKET_TIMEOUT


def in_a_forked_child(work: Callable[[], str]) -> tuple[int, str]:
    """Run ``work`` in a forked child; its pid and what it returned."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave at once (no test teardown in here)
        try:
            os.write(write, work().encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        reported = pipe.read().decode()
    os.waitpid(pid, 0)
    return pid, reported


def assert_blocking_with_kernel_timeout(sock: socket.socket) -> None:
    """No Python timeout; ``SOCKET_TIMEOUT`` for both directions in the kernel."""
    assert sock.gettimeout() is None
    for option in (socket.SO_RCVTIMEO, socket.SO_SNDTIMEO):
        seconds, micros = struct.unpack("@ll", sock.getsockopt(socket.SOL_SOCKET, option, 16))
        # The kernel keeps it in clock ticks: read back within a tick (<= 10 ms) of the setting.
        assert seconds + micros / 1_000_000 == pytest.approx(SOCKET_TIMEOUT, abs=0.011)

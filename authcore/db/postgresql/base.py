"""Django's PostgreSQL backend with a health-check bypass window, as HikariCP has.

With ``CONN_HEALTH_CHECKS`` Django runs ``SELECT 1`` before the first query of every request
that uses a persistent connection: one more round trip on every request that touches the
database, however busy the connection is. HikariCP, the JVM's reference pool, skips its
liveness check for a connection used within the last 500 ms (``aliveBypassWindowMs``): such a
connection was just proven alive by real work. This backend does the same at Django's request
boundary: a connection that ran a query less than ``health_check_bypass_seconds`` ago, with no
database error since, is not checked again. A connection idle for longer, one that saw a
database error (Django checks it at the boundary, as always), and a new connection are
treated exactly as Django does.

What that trades: a connection the server drops inside that window (a PostgreSQL restart or
``pg_terminate_backend`` between two requests less than half a second apart) fails the next
request's first query (a 503 ``service_unavailable``) instead of being replaced silently; the
failure marks the connection and the request after it reconnects. docs/operations.md says so.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_bypass_seconds = 0.5

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_used = float("-inf")  # when a cursor was last opened on this connection

    def _cursor(self, name: str | None = None) -> Any:
        cursor = super()._cursor(name)  # type: ignore[misc]  # Django's, not in the stubs
        self._last_used = time.monotonic()
        return cursor

    def close_if_unusable_or_obsolete(self) -> None:
        """Django's checks at a request boundary, then the bypass (module doc)."""
        super().close_if_unusable_or_obsolete()
        if (
            self.connection is not None
            and not self.errors_occurred
            and time.monotonic() - self._last_used < self.health_check_bypass_seconds
        ):
            self.health_check_done = True

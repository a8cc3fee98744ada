"""The benchmark's own PostgreSQL databases, on the suite's server, never the dev or test DBs."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

# Every database the harness creates starts with this; nothing else is ever dropped.
DATABASE_PREFIX = "authcore_bench_"


def database_url(base_url: str, name: str) -> str:
    """``base_url`` (the suite's ``DATABASE_URL``) pointing at database ``name``."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin_connection(base_url: str) -> psycopg.Connection:
    url = database_url(base_url, "postgres").replace("postgres://", "postgresql://", 1)
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def recreate_database(base_url: str, name: str) -> str:
    """Drop (if left over) and create database ``name``; return its URL."""
    if not name.startswith(DATABASE_PREFIX):
        raise ValueError(f"refusing to manage a database not named {DATABASE_PREFIX}*")
    with _admin_connection(base_url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(base_url, name)


def drop_database(base_url: str, name: str) -> None:
    if not name.startswith(DATABASE_PREFIX):
        raise ValueError(f"refusing to drop a database not named {DATABASE_PREFIX}*")
    with _admin_connection(base_url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


# Seconds to wait for autovacuum to finish before a measurement starts.
SETTLE_TIMEOUT = 20.0


def settle(base_url: str, timeout: float = SETTLE_TIMEOUT) -> float:
    """Let PostgreSQL finish the background work the previous row left before the next row
    is measured: write the dirty buffers now (``CHECKPOINT``) and wait for running autovacuum
    workers (the write-heavy rows insert thousands of rows, which starts them). Otherwise that
    work lands in whichever row runs next, a cheap one most visibly. Same for every contender.

    Returns:
        The seconds spent waiting for autovacuum.
    """
    started = time.monotonic()
    with _admin_connection(base_url) as connection:
        connection.execute("CHECKPOINT")
        while time.monotonic() - started < timeout:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE backend_type = 'autovacuum worker' AND state = 'active'"
            ).fetchone()
            if not row or not row[0]:
                break
            time.sleep(0.2)
    return time.monotonic() - started

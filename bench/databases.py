"""The benchmark's own PostgreSQL databases, on the suite's server, never the dev or test DBs."""

from __future__ import annotations

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

"""What an ``IntegrityError`` means, read from the driver's error code, never its message
(PostgreSQL's messages follow the server's ``lc_messages``)."""

from __future__ import annotations

from django.db import IntegrityError


def refers_to_a_deleted_row(error: IntegrityError) -> bool:
    """A foreign-key violation: the row a write refers to is gone (deleted on another
    connection while the write ran; PostgreSQL checks Django's foreign keys at commit).
    SQLite, the development default, reports the same by its extended error name."""
    cause = error.__cause__
    return (
        getattr(cause, "sqlstate", None) == "23503"  # foreign_key_violation
        or getattr(cause, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_FOREIGNKEY"
    )

"""Foreign keys and concurrent writers: what an ``IntegrityError`` means, and deletions that
stay whole while other instances insert rows referring to what they delete.

The error's meaning is read from the driver's error code, never its message (PostgreSQL's
messages follow the server's ``lc_messages``).
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.db import IntegrityError, connection, transaction

log = structlog.get_logger(__name__)

# A deletion that lost the race below this many times in a row fails for real (three
# inserts referring to what it deletes, each inside the same deletion's few milliseconds).
DELETE_ATTEMPTS = 3


def refers_to_a_deleted_row(error: IntegrityError) -> bool:
    """A foreign-key violation: the row a write refers to is gone (deleted on another
    connection while the write ran; PostgreSQL checks Django's foreign keys at commit).
    SQLite, the development default, reports the same by its extended error name."""
    cause = error.__cause__
    return (
        getattr(cause, "sqlstate", None) == "23503"  # foreign_key_violation
        or getattr(cause, "sqlite_errorname", None) == "SQLITE_CONSTRAINT_FOREIGNKEY"
    )


def delete_whole(delete: Callable[[], object], *, what: str) -> None:
    """Run ``delete`` (a Django deletion with its cascade) so that nothing is left pointing
    at what it deleted, whatever other instances insert meanwhile.

    Django's collector deletes the rows that refer to an object, then the object. A request
    on another instance can commit a new such row in between (a sign-in's session or token
    for a user; a new user of a client): the foreign key then fails, at commit, since
    PostgreSQL checks Django's foreign keys deferred. The check is made here instead, inside
    a savepoint, and the deletion is run again, which now finds and deletes the newcomer.
    Work of a failed attempt (rows, audit events, ``on_commit`` callbacks) is rolled back.

    Args:
        delete: the deletion; called once per attempt, so it must read what it deletes anew.
        what: a word for the log (``users``, ``client``).

    Raises:
        IntegrityError: the deletion lost the race ``DELETE_ATTEMPTS`` times in a row, or
            failed a check that no retry can pass.
    """
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                delete()
                if connection.vendor == "postgresql":
                    connection.check_constraints()  # the deferred foreign-key checks, now
            return
        except IntegrityError as error:
            if attempt == DELETE_ATTEMPTS or not refers_to_a_deleted_row(error):
                raise
            log.info("deletion_retried", what=what, attempt=attempt)

"""One way to lock users' rows, for every write that must not interleave with another on the
same user: a session refresh, "end every session of the user", the admin deleting users.

``FOR NO KEY UPDATE``: these writes wait for one another, yet inserts that only reference the
user (tokens, sessions, passkeys: their foreign-key checks take ``FOR KEY SHARE``) go on
meanwhile; a stronger ``FOR UPDATE`` would also wait for those, and a sign-in holding its
passkey's row would deadlock with it. Several users are locked in primary-key order, so two
such writes never wait on each other crosswise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import structlog
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction

log = structlog.get_logger(__name__)

# A deletion that lost the race below this many times in a row fails for real (three
# sign-ins of the same user, each inside one deletion's few milliseconds).
DELETE_ATTEMPTS = 3


def lock_users(user_ids: Iterable[Any]) -> None:
    """Lock these users' rows until the transaction ends (call inside ``atomic``)."""
    users = get_user_model().objects.select_for_update(no_key=True).filter(pk__in=list(user_ids))
    list(users.order_by("pk").values_list("pk", flat=True))


def delete_users(user_ids: Callable[[], Iterable[Any]], delete: Callable[[], object]) -> None:
    """Run ``delete`` (Django's deletion of these users and what refers to them) with the
    users locked, and again if a sign-in slipped a row in meanwhile.

    Because the lock lets inserts that reference the user go on, a sign-in on another
    instance can commit a session or token after the deletion removed the user's rows and
    before it removes the user: the foreign key then fails, at commit (PostgreSQL checks
    Django's foreign keys deferred). The check is made here instead, inside a savepoint, and
    the whole deletion is run again, which now finds and deletes the newcomer: staff get their
    deletion, never a server error, and the sign-in's session or token goes with the user.

    ``user_ids`` is called on every attempt (a queryset may match other rows by then).
    """
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                lock_users(user_ids())
                delete()
                if connection.vendor == "postgresql":
                    connection.check_constraints()  # the deferred foreign-key checks, now
            return
        except IntegrityError:
            if attempt == DELETE_ATTEMPTS:
                raise
            log.info("user_deletion_retried", attempt=attempt)

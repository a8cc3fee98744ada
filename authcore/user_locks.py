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

from django.contrib.auth import get_user_model

from authcore.integrity import delete_whole


def lock_users(user_ids: Iterable[Any]) -> None:
    """Lock these users' rows until the transaction ends (call inside ``atomic``)."""
    users = get_user_model().objects.select_for_update(no_key=True).filter(pk__in=list(user_ids))
    list(users.order_by("pk").values_list("pk", flat=True))


def delete_users(user_ids: Callable[[], Iterable[Any]], delete: Callable[[], object]) -> None:
    """Run ``delete`` (Django's deletion of these users and what refers to them) with the
    users locked first, and whole: a sign-in that commits a session or token of one of them
    meanwhile on another instance is deleted with them (``authcore.integrity.delete_whole``).

    ``user_ids`` is called on every attempt (a queryset may match other rows by then).
    """

    def attempt() -> None:
        lock_users(user_ids())
        delete()

    delete_whole(attempt, what="users")

"""Keep the Redis token/user state right when rows change outside the services.

Deleting a user (admin or ORM) cascades to their token records; deactivating a user happens in
the admin. Django offers no other hook for those, hence signals (STYLE §1). Writes happen after
commit. ``QuerySet.update()`` sends no signal: change users with ``save()``; the cached
snapshot expires within ``state_cache.POSITIVE_TTL`` seconds in any case.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from tokens.internal import clock, state_cache
from tokens.models import TokenRecord


def _user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        return
    transaction.on_commit(lambda: state_cache.mark_user(instance))


def _user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    user_id = instance.pk
    transaction.on_commit(lambda: state_cache.mark_user_gone(user_id))


def _record_saved(sender: Any, instance: TokenRecord, created: bool, **kwargs: Any) -> None:
    if not created and instance.revoked_at is not None:
        entry = [(instance.jti, instance.expires_at)]
        transaction.on_commit(lambda: state_cache.mark_tokens(entry, state_cache.REVOKED))


def _record_deleted(sender: Any, instance: TokenRecord, **kwargs: Any) -> None:
    if instance.expires_at > clock.now():  # an expired token is refused anyway
        entry = [(instance.jti, instance.expires_at)]
        transaction.on_commit(lambda: state_cache.mark_tokens(entry, state_cache.GONE))


def connect() -> None:
    post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens.user")
    post_delete.connect(
        _user_deleted, sender=settings.AUTH_USER_MODEL, dispatch_uid="tokens.user_deleted"
    )
    post_save.connect(_record_saved, sender=TokenRecord, dispatch_uid="tokens.record")
    post_delete.connect(_record_deleted, sender=TokenRecord, dispatch_uid="tokens.record_del")

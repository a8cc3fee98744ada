"""The state half of verification: Redis on the fast path, the database as the truth.

"Redis down" is a real unreachable Redis (the link to it cut, its data kept), not a mock: the
shared store's breaker opens and the memory fallback is in use, which verification must never
trust.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from authcore.models import User
from authcore.store import shared_store
from tests.tokens.conftest import RedisLink
from tokens import services
from tokens.exceptions import InvalidToken
from tokens.internal import keyset

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_down(redis_link: RedisLink) -> Iterator[Any]:
    """Cut this process off from Redis (which keeps its data); ``.back()`` reconnects and
    lets the store recover as it does in production, ``.down()`` cuts again."""

    class Switch:
        def back(self) -> None:
            assert redis_link.restore()

        def down(self) -> None:
            redis_link.cut()

    switch = Switch()
    switch.down()
    yield switch


def refused(raw: str) -> str:
    with pytest.raises(InvalidToken) as caught:
        services.verify_token(raw)
    return caught.value.reason


def test_a_warm_verification_makes_no_sql_query(user: User, django_assert_num_queries: Any) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)  # fills the Redis entries
    with django_assert_num_queries(0):
        verified = services.verify_token(token.raw)
    assert verified.user.pk == user.pk and verified.user.username == "alice"


def test_a_user_built_from_the_snapshot_saves_without_clobbering_other_fields(user: User) -> None:
    user.set_password("correct horse battery staple")
    user.first_name = "Alice"
    user.save()
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    from_snapshot = services.verify_token(token.raw).user
    from_snapshot.display_name = "Changed"
    from_snapshot.save()
    fresh = User.objects.get(pk=user.pk)
    assert fresh.display_name == "Changed" and fresh.first_name == "Alice"
    assert fresh.check_password("correct horse battery staple")


def test_with_redis_down_tokens_still_verify_from_the_database(user: User, redis_down: Any) -> None:
    token = services.issue_token(user=user, kind="client")
    assert services.verify_token(token.raw).user.pk == user.pk
    assert shared_store().using_redis is False


def test_with_redis_down_a_token_redis_knew_as_valid_is_refused_once_revoked(
    user: User, redis_down: Any
) -> None:
    redis_down.back()
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)  # Redis now says "valid"
    redis_down.down()
    services.revoke_token(jti=token.jti)
    assert refused(token.raw) == "revoked"


def test_a_revocation_made_while_redis_was_down_holds_when_redis_is_back(
    user: User, redis_down: Any
) -> None:
    redis_down.back()
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)  # Redis says "valid"
    redis_down.down()
    services.revoke_token(jti=token.jti)
    redis_down.back()
    assert refused(token.raw) == "revoked"


def test_with_redis_down_a_deleted_users_token_is_refused(user: User, redis_down: Any) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    user.delete()
    assert refused(token.raw) == "unknown_token"


def test_with_redis_down_a_revoked_keys_token_is_refused(user: User, redis_down: Any) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    services.revoke_key(kid=keyset.cached().current_kid)  # type: ignore[union-attr,arg-type]
    assert refused(token.raw) in ("unknown_key", "revoked")


def test_deleting_a_user_ends_their_tokens_at_once(user: User) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)  # cached valid, with a user snapshot
    User.objects.filter(pk=user.pk).delete()  # an ORM delete, as from the admin
    assert refused(token.raw) in ("unknown_token", "user_inactive")


def test_deactivating_a_user_ends_their_tokens_at_once(user: User) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    user.is_active = False
    user.save()
    assert refused(token.raw) == "user_inactive"

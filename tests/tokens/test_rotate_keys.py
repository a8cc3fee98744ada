"""The signing-key life cycle: rotate_keys, --now, revoke_key (API.md "Tokens and keys")."""

from __future__ import annotations

import dataclasses
import io
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from authcore.models import AuditEvent, User
from authcore.store import reset_shared_store
from tests.tokens.conftest import Clock
from tokens import services
from tokens.exceptions import InvalidToken
from tokens.internal import keyset
from tokens.models import SigningKey

pytestmark = pytest.mark.django_db(transaction=True)


def published_kids() -> list[str]:
    response = APIClient().get("/.well-known/jwks.json")
    assert response.status_code == 200
    return [key["kid"] for key in response.json()["keys"]]


def signing_kid(user: User) -> str:
    raw = services.issue_token(user=user, kind="client", ttl=60).raw
    return str(jwt.get_unverified_header(raw)["kid"])


def states() -> dict[str, str]:
    return dict(SigningKey.objects.values_list("kid", "state"))


@pytest.fixture
def periods(settings: Any) -> Any:
    settings.JWT_KEY_ROTATION_HOURS = 24
    settings.JWT_KEY_TTL_HOURS = 48
    settings.JWT_KEY_PUBLISH_AHEAD_MINUTES = 60
    return settings


def test_rotate_keys_on_an_empty_key_set_creates_the_first_signing_key() -> None:
    result = services.rotate_keys()
    assert list(states().values()) == ["current"]
    assert result.activated == result.created
    assert services.rotate_keys().changed is False  # idempotent


def test_a_new_key_is_published_an_hour_before_it_signs_then_signs(
    user: User, frozen_clock: Clock, periods: Any
) -> None:
    services.rotate_keys()
    first = signing_kid(user)
    frozen_clock.advance(hours=22, minutes=59)
    assert services.rotate_keys().changed is False
    frozen_clock.advance(minutes=1)  # 23 h: publish-ahead begins
    second = services.rotate_keys().created[0]
    assert published_kids() == [first, second]
    assert signing_kid(user) == first
    frozen_clock.advance(minutes=59)
    assert signing_kid(user) == first  # published, not yet signing
    frozen_clock.advance(minutes=1)  # 24 h
    assert services.rotate_keys().activated == [second]
    assert signing_kid(user) == second
    assert states() == {first: "retiring", second: "current"}
    assert set(published_kids()) == {first, second}


def test_a_key_stays_published_for_its_ttl_and_the_longest_token_it_signed(
    user: User, frozen_clock: Clock, periods: Any
) -> None:
    services.rotate_keys()
    first = signing_kid(user)
    services.issue_token(user=user, kind="client", ttl=5 * 86_400)  # lives five days
    for _ in range(4):  # four days of scheduled rotations
        frozen_clock.advance(hours=23)
        services.rotate_keys()
        frozen_clock.advance(hours=1)
        services.rotate_keys()
    assert states()[first] == "retiring"  # past its 48 h TTL, but a token it signed lives
    assert first in published_kids()
    frozen_clock.advance(days=1, seconds=1)
    services.rotate_keys()
    assert states()[first] == "retired"
    assert first not in published_kids()


def test_a_key_without_long_tokens_retires_after_its_ttl(
    user: User, frozen_clock: Clock, periods: Any
) -> None:
    services.rotate_keys()
    first = signing_kid(user)  # a one-minute token
    frozen_clock.advance(hours=23)
    services.rotate_keys()
    frozen_clock.advance(hours=1)
    services.rotate_keys()
    assert states()[first] == "retiring"
    frozen_clock.advance(hours=23, minutes=59)
    services.rotate_keys()
    assert states()[first] == "retiring"  # 48 h after it was published, not before
    frozen_clock.advance(minutes=1)
    services.rotate_keys()
    assert states()[first] == "retired"


def test_with_publish_ahead_equal_to_the_period_a_next_key_is_always_published(
    frozen_clock: Clock, settings: Any
) -> None:
    settings.JWT_KEY_ROTATION_HOURS = 1
    settings.JWT_KEY_PUBLISH_AHEAD_MINUTES = 60
    services.rotate_keys()
    for _ in range(5):
        assert sorted(s for s in states().values() if s in ("next", "current")) == [
            "current",
            "next",
        ]
        frozen_clock.advance(hours=1)
        services.rotate_keys()


def test_signing_rotates_by_itself_when_no_beat_runs(
    user: User, frozen_clock: Clock, periods: Any
) -> None:
    first = signing_kid(user)  # the first key, created on demand
    frozen_clock.advance(hours=23)
    assert signing_kid(user) == first  # and the next key is now published
    assert len(published_kids()) == 2
    frozen_clock.advance(hours=1)
    assert signing_kid(user) != first


def test_rotate_keys_now_signs_with_a_new_key_and_keeps_the_old_one_published(
    user: User,
) -> None:
    call_command("rotate_keys")
    first = signing_kid(user)
    old_token = services.issue_token(user=user, kind="client")
    call_command("rotate_keys", "--now")
    second = signing_kid(user)
    assert second != first
    assert states()[first] == "retiring" and states()[second] == "current"
    assert {first, second} < set(published_kids())
    services.verify_token(old_token.raw)  # still good
    assert AuditEvent.objects.filter(action="key.rotated_now").exists()


def test_rotate_keys_now_promotes_the_key_published_by_the_previous_step(user: User) -> None:
    call_command("rotate_keys", "--now")  # no next key yet: the one unannounced case
    for _ in range(4):
        before = states()
        (ahead,) = [kid for kid, state in before.items() if state == "next"]
        signing = signing_kid(user)
        result = services.rotate_keys(now=True)
        assert result.activated == [ahead] and result.unannounced == []
        assert signing_kid(user) == ahead  # the key consumers could already hold
        assert states()[signing] == "retiring" and signing in published_kids()
        (fresh,) = [kid for kid, state in states().items() if state == "next"]
        assert fresh not in before and fresh in published_kids()


def test_rotate_keys_now_without_a_next_key_says_its_key_signs_unannounced(user: User) -> None:
    services.rotate_keys()
    errors = io.StringIO()
    call_command("rotate_keys", "--now", stdout=io.StringIO(), stderr=errors)
    assert "signs unannounced" in errors.getvalue()
    assert sorted(states().values()) == ["current", "next", "retiring"]
    errors = io.StringIO()
    call_command("rotate_keys", "--now", stdout=io.StringIO(), stderr=errors)
    assert errors.getvalue() == ""  # the next key published by the first run signs


def test_after_rotate_now_the_fresh_next_key_signs_on_the_regular_schedule(
    user: User, frozen_clock: Clock, periods: Any
) -> None:
    services.rotate_keys()
    services.rotate_keys(now=True)
    (ahead,) = [kid for kid, state in states().items() if state == "next"]
    frozen_clock.advance(hours=23, minutes=59)
    assert signing_kid(user) != ahead
    frozen_clock.advance(minutes=1)
    assert services.rotate_keys().activated == [ahead]
    assert signing_kid(user) == ahead


def test_another_process_signs_with_the_new_key_after_rotate_now(user: User) -> None:
    """The other process is this one with its stale view put back: once its check interval
    has passed (keyset.DOCUMENT_CHECK_INTERVAL, half a second) it must notice the key-set
    version in Redis changed before it signs again."""
    first = signing_kid(user)
    stale = keyset.cached()
    call_command("rotate_keys", "--now")
    keyset._keyset = stale  # what every other process still holds
    keyset.recheck()  # its interval has passed (the time itself is proven in test_workers)
    assert signing_kid(user) != first


def test_revoke_key_unpublishes_it_refuses_its_tokens_and_a_fresh_key_signs(user: User) -> None:
    token = services.issue_token(user=user, kind="client")
    services.verify_token(token.raw)
    kid = str(jwt.get_unverified_header(token.raw)["kid"])
    stale = keyset.cached()
    call_command("revoke_key", "--", kid)
    keyset._keyset = stale  # as in another process: the MGET's version check catches it
    with pytest.raises(InvalidToken):
        services.verify_token(token.raw)
    assert kid not in published_kids()
    assert signing_kid(user) not in (kid, "")
    assert states()[kid] == "revoked"
    event = AuditEvent.objects.get(action="key.revoked")
    assert event.target == f"signing_key:{kid}" and event.detail["token_count"] == 1


def test_revoke_key_of_the_current_key_hands_signing_to_the_published_next_key(
    user: User,
) -> None:
    call_command("rotate_keys", "--now")
    doomed = signing_kid(user)
    (ahead,) = [kid for kid, state in states().items() if state == "next"]
    result = services.revoke_key(kid=doomed)
    assert result.activated == [ahead] and result.unannounced == []
    assert signing_kid(user) == ahead
    (fresh,) = [kid for kid, state in states().items() if state == "next"]
    assert set(published_kids()) >= {ahead, fresh} and doomed not in published_kids()


def test_revoke_key_of_the_next_key_publishes_another_in_its_place(
    frozen_clock: Clock, periods: Any
) -> None:
    services.rotate_keys()
    frozen_clock.advance(hours=23, minutes=30)
    (ahead,) = services.rotate_keys().created
    services.revoke_key(kid=ahead)
    (fresh,) = [kid for kid, state in states().items() if state == "next"]
    assert fresh != ahead and fresh in published_kids() and ahead not in published_kids()
    key = SigningKey.objects.get(kid=fresh)
    assert key.activates_at - key.published_at >= timedelta(minutes=60)  # still published ahead


def test_revoke_key_with_an_unknown_kid_is_an_error_and_changes_nothing() -> None:
    services.rotate_keys()
    before = states()
    with pytest.raises(CommandError):
        call_command("revoke_key", "no-such-kid")
    assert states() == before


def test_the_database_refuses_a_second_current_key() -> None:
    services.rotate_keys()
    key = SigningKey.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(
            kid="other",
            state="current",
            public_jwk=key.public_jwk,
            private_key_encrypted=b"x",
            created_at=key.created_at,
            published_at=key.published_at,
            activates_at=key.activates_at,
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's locks")
@pytest.mark.parametrize("force_due", [False, True])
def test_four_instances_rotating_at_once_create_one_key(
    frozen_clock: Clock, periods: Any, force_due: bool
) -> None:
    if force_due:  # a current key whose successor is due: all four try to create it
        services.rotate_keys()
        frozen_clock.advance(hours=23)
    before = SigningKey.objects.count()
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def instance() -> None:
        try:
            barrier.wait()
            services.rotate_keys()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=instance) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert SigningKey.objects.count() == before + 1


@pytest.fixture
def no_redis() -> Iterator[None]:
    """This process runs without Redis (REDIS_URL unset: the in-memory mode)."""
    real = django_settings.REDIS_URL
    django_settings.REDIS_URL = ""
    reset_shared_store()
    try:
        yield
    finally:
        django_settings.REDIS_URL = real
        reset_shared_store()


def _stale_after_revoking(user: User) -> tuple[str, keyset.KeySet]:
    """Revoke the signing key, then put back the view loaded just before: what another
    process without Redis still holds (it re-reads the database once its view is 1 s old)."""
    revoked = signing_kid(user)
    stale = keyset.cached()
    assert stale is not None
    services.revoke_key(kid=revoked)
    # Loaded just now, as far as that process knows (revoke_key's key generation may take a
    # while on a busy machine: the second counts from here, not from the first signature).
    stale = dataclasses.replace(stale, loaded_at=time.monotonic())
    keyset._keyset = stale
    return revoked, stale


def test_without_redis_a_stale_process_refuses_its_own_tokens_of_a_revoked_key(
    user: User, no_redis: None
) -> None:
    revoked, _ = _stale_after_revoking(user)
    token = services.issue_token(user=user, kind="client")
    assert jwt.get_unverified_header(token.raw)["kid"] == revoked  # its view is under 1 s old

    with pytest.raises(InvalidToken):
        services.verify_token(token.raw)


def test_without_redis_signing_leaves_a_revoked_key_within_a_second(
    user: User, no_redis: None
) -> None:
    """A process that looked at 0.8 s (its view then under a second old) must not wait for
    another check interval: at 1.1 s it signs with a fresh key."""
    revoked, stale = _stale_after_revoking(user)
    time.sleep(max(0.0, stale.loaded_at + 0.8 - time.monotonic()))
    signing_kid(user)

    time.sleep(max(0.0, stale.loaded_at + 1.1 - time.monotonic()))

    assert signing_kid(user) != revoked

"""After ``JWT_SECRET`` changes: the keys sealed under the old secret never make signing fail
with a 500, and ``rotate_keys --now`` brings a key that signs (docs/operations.md)."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.core.management import call_command

from authcore.models import AuditEvent, User
from tests.tokens.conftest import Clock
from tokens import services
from tokens.internal import keyset
from tokens.models import SigningKey, TokenRecord

pytestmark = pytest.mark.django_db(transaction=True)

NEW_SECRET = "a-new-jwt-secret-after-the-old-one-leaked-" + "y" * 20


def restart_with_new_secret(settings: Any) -> None:
    """What a redeploy with a new JWT_SECRET does: a new secret and no decrypted keys."""
    settings.JWT_SECRET = NEW_SECRET
    keyset.forget()


def test_rotate_now_after_a_secret_change_skips_the_unopenable_next_key_and_signs(
    settings: Any, user: User
) -> None:
    call_command("rotate_keys", "--now")  # a current key and a published next key
    stale_next = SigningKey.objects.get(state=SigningKey.State.NEXT).kid
    restart_with_new_secret(settings)

    call_command("rotate_keys", "--now")

    issued = services.issue_token(user=user, kind="client", ttl=60)
    kid = jwt.get_unverified_header(issued.raw)["kid"]
    assert kid != stale_next
    assert services.verify_token(issued.raw).jti == issued.jti
    assert SigningKey.objects.get(kid=stale_next).state == SigningKey.State.REVOKED
    assert AuditEvent.objects.filter(
        action="key.revoked", target=f"signing_key:{stale_next}", outcome="failure"
    ).exists()
    # The following rotation is announced again: a fresh next key, sealed under the new secret.
    upcoming = SigningKey.objects.get(state=SigningKey.State.NEXT)
    assert upcoming.kid not in (stale_next, kid)


def test_a_scheduled_promotion_never_makes_an_unopenable_key_current(
    settings: Any, user: User, frozen_clock: Clock
) -> None:
    call_command("rotate_keys", "--now")
    current = SigningKey.objects.get(state=SigningKey.State.CURRENT).kid
    upcoming = SigningKey.objects.get(state=SigningKey.State.NEXT)
    restart_with_new_secret(settings)
    frozen_clock.now = upcoming.activates_at

    services.rotate_keys()

    assert SigningKey.objects.get(kid=upcoming.kid).state == SigningKey.State.REVOKED
    assert SigningKey.objects.get(kid=current).state == SigningKey.State.CURRENT
    assert SigningKey.objects.filter(state=SigningKey.State.NEXT).exclude(kid=upcoming.kid).exists()


def test_signing_with_an_unopenable_current_key_is_a_503_and_records_nothing(
    settings: Any, user: User
) -> None:
    services.rotate_keys()
    restart_with_new_secret(settings)

    with pytest.raises(services.SigningUnavailable) as caught:
        services.issue_token(user=user, kind="client", ttl=60)

    assert caught.value.status_code == 503
    assert caught.value.code == "signing_unavailable"
    assert not TokenRecord.objects.exists()

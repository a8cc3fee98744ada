"""The signing-key timeline: each published key, its state and when that state changes.

The dates follow the rules of ``tokens.internal.rotation`` (API.md "Tokens and keys"): a next
key signs at its ``activates_at``; the current key retires when the next one signs, and a next
key is published ``JWT_KEY_PUBLISH_AHEAD_MINUTES`` before the rotation is due; a retiring key
leaves the JWKS after ``JWT_KEY_TTL_HOURS`` and once every token it signed has expired. The
beat runs ``rotate_keys`` every 5 minutes, so a change happens up to 5 minutes after its time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max

from tokens import app_settings as token_settings
from tokens.models import SigningKey, TokenRecord
from tokens.selectors import published_signing_keys

State = SigningKey.State


@dataclass(frozen=True)
class KeyStep:
    """One published key: what it is, since when, and what happens to it next (and when)."""

    kid: str
    state: str
    since: datetime | None
    next_change: str
    next_change_at: datetime | None
    tokens_live: int


def _needed_until(key: SigningKey) -> datetime:
    longest = TokenRecord.objects.filter(signing_key=key).aggregate(m=Max("expires_at"))["m"]
    minimum = key.published_at + token_settings.KEY_TTL
    return max(minimum, longest) if longest else minimum


def key_timeline(*, now: datetime) -> list[KeyStep]:
    """Published keys in order next, current, retiring (oldest retiring last)."""
    order: dict[str, int] = {State.NEXT: 0, State.CURRENT: 1, State.RETIRING: 2}
    keys = sorted(
        published_signing_keys().defer("private_key_encrypted"),
        key=lambda k: (order.get(k.state, 9), -k.created_at.timestamp()),
    )
    upcoming = next((k for k in keys if k.state == State.NEXT), None)
    steps: list[KeyStep] = []
    for key in keys:
        live = TokenRecord.objects.filter(
            signing_key=key, revoked_at__isnull=True, expires_at__gt=now
        ).count()
        if key.state == State.NEXT:
            steps.append(
                KeyStep(
                    key.kid, key.state, key.published_at, "starts signing", key.activates_at, live
                )
            )
        elif key.state == State.CURRENT:
            if upcoming is not None:
                change, at = "hands over to the next key", upcoming.activates_at
            else:
                due = (key.activated_at or key.created_at) + token_settings.ROTATION_PERIOD
                change = "next key published (rotation due " + due.strftime("%Y-%m-%d %H:%M") + ")"
                at = due - token_settings.PUBLISH_AHEAD
            steps.append(KeyStep(key.kid, key.state, key.activated_at, change, at, live))
        else:
            steps.append(
                KeyStep(
                    key.kid,
                    key.state,
                    key.deactivated_at,
                    "leaves the JWKS",
                    _needed_until(key),
                    live,
                )
            )
    return steps

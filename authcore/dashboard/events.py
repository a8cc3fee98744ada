"""Reads of the audit trail for the dashboard: per-bucket series of the events staff watch.

The action names relied on here are listed in docs/operations.md ("Audit events"); an app
that records a new kind of failure only has to follow the same naming to show up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, IntegerField, Q, Sum, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, TruncHour
from django.utils import timezone

from authcore.models import AuditEvent

REVOCATION_ACTIONS = ("token.revoked", "token.revoked_user", "token.revoked_client", "key.revoked")
SIGN_UP_ACTIONS = ("user.signed_up", "user.provisioned")
KEY_ACTIONS = ("key.created", "key.activated", "key.retired", "key.rotated_now", "key.revoked")


@dataclass(frozen=True)
class Window:
    """A period shown on the dashboard, cut into equal buckets."""

    name: str
    span: timedelta
    bucket: timedelta
    label_format: str


WINDOWS = {
    "24h": Window("24h", timedelta(hours=24), timedelta(hours=1), "%H:00"),
    "7d": Window("7d", timedelta(days=7), timedelta(hours=12), "%a %H:00"),
}


@dataclass
class Category:
    """One chart: a name and its series (name -> count per bucket)."""

    title: str
    help: str
    series: dict[str, list[int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(sum(values) for values in self.series.values())


def _failure_reason(action: str, outcome: str, reason: str | None) -> str | None:
    if action.startswith("signin.") and outcome != "success":
        return f"{action.removeprefix('signin.')}: {reason or outcome}"
    if action.endswith(".auth_failed"):
        scope = action.removesuffix(".auth_failed")
        return scope if reason in (None, scope) else f"{scope}: {reason}"
    if action == "passkey.sign_count_regressed":
        return "passkey: sign_count_regressed"
    return None


def _lockout_scope(action: str, outcome: str, reason: str | None) -> str | None:
    if action.endswith(".locked_out"):
        return f"lockout: {action.removesuffix('.locked_out')}"
    if action == "rate_limit.refused":
        return f"rate limit: {reason or 'refused'}"
    return None


def _revocation(action: str, outcome: str, reason: str | None) -> str | None:
    return {
        "token.revoked": "one token",
        "token.revoked_user": "all of a user",
        "token.revoked_client": "all of a client",
        "key.revoked": "signing key revoked",
    }.get(action)


def _new_passkey(action: str, outcome: str, reason: str | None) -> str | None:
    return "registered" if action == "passkey.registered" else None


def _sign_in(action: str, outcome: str, reason: str | None) -> str | None:
    if action.startswith("signin.") and outcome == "success":
        return action.removeprefix("signin.")
    return None


def _sign_up(action: str, outcome: str, reason: str | None) -> str | None:
    if action == "user.signed_up":
        return f"via {reason or 'api'}"
    if action == "user.provisioned":
        return "via oidc"
    return None


Classifier = Callable[[str, str, str | None], str | None]

# (key, title, help, classifier, counts tokens rather than events)
CATEGORIES: tuple[tuple[str, str, str, Classifier, bool], ...] = (
    ("failures", "Failed authentications", "by method and reason", _failure_reason, False),
    ("refusals", "Rate-limit refusals and lockouts", "by scope", _lockout_scope, False),
    ("revocations", "Tokens revoked", "tokens, by how", _revocation, True),
    ("passkeys", "New passkeys", "registrations", _new_passkey, False),
    ("signins", "Sign-ins", "by method", _sign_in, False),
    ("signups", "Sign-ups", "by way in", _sign_up, False),
)

_WATCHED = (
    Q(action__startswith="signin.")
    | Q(action__endswith=".auth_failed")
    | Q(action__endswith=".locked_out")
    | Q(action__in=(*REVOCATION_ACTIONS, *SIGN_UP_ACTIONS, "passkey.registered"))
    | Q(action__in=("passkey.sign_count_regressed", "rate_limit.refused"))
)


def bucket_starts(window: Window, *, now: datetime | None = None) -> list[datetime]:
    """The start of each bucket, oldest first; the last bucket ends with the current hour."""
    now = now or timezone.now()
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    count = int(window.span / window.bucket)
    return [end - window.span + i * window.bucket for i in range(count)]


def event_categories(
    window: Window, *, now: datetime | None = None
) -> tuple[list[str], list[Category]]:
    """Bucket labels and the dashboard's categories over ``window``, from the audit trail.

    One grouped query (per hour, action, outcome and reason) and the folding in Python, so the
    database does the counting whatever the volume.
    """
    starts = bucket_starts(window, now=now)
    since = starts[0]
    rows = (
        AuditEvent.objects.filter(_WATCHED, created_at__gte=since)
        .annotate(
            hour=TruncHour("created_at"),
            reason=Coalesce(KT("detail__reason"), KT("detail__via"), KT("detail__scope")),
            weight=Coalesce(
                Cast(KT("detail__count"), IntegerField()),
                Cast(KT("detail__token_count"), IntegerField()),
                Value(1),
            ),
        )
        .values("hour", "action", "outcome", "reason")
        .annotate(events=Count("id"), tokens=Sum("weight"))
    )
    categories = {key: Category(title=title, help=help_) for key, title, help_, *_ in CATEGORIES}
    counts: dict[str, dict[str, list[int]]] = defaultdict(dict)
    for row in rows:
        index = int((row["hour"] - since) / window.bucket)
        if not 0 <= index < len(starts):
            continue
        for key, _title, _help, classify, weighted in CATEGORIES:
            name = classify(row["action"], row["outcome"], row["reason"])
            if name is None:
                continue
            values = counts[key].setdefault(name, [0] * len(starts))
            values[index] += int(row["tokens"] if weighted else row["events"])
    for key, series in counts.items():
        categories[key].series = dict(sorted(series.items()))
    labels = [timezone.localtime(start).strftime(window.label_format) for start in starts]
    return labels, list(categories.values())


def recent_key_events(limit: int = 10) -> list[Any]:
    """The latest signing-key events (created, activated, rotated now, retired, revoked)."""
    return list(AuditEvent.objects.filter(action__in=KEY_ACTIONS)[:limit])

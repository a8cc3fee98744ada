"""Brute-force lockout of credentials, after Keycloak's brute-force detection.

Failures on one *subject* are counted in the shared store for ``LOCKOUT_WINDOW`` seconds; the
``LOCKOUT_MAX_FAILURES``-th failure locks the subject for ``LOCKOUT_SECONDS``. While locked,
every attempt on that subject is refused with 429 ``rate_limited`` and ``Retry-After`` before
the credential is even checked, so a correct guess during the lock teaches nothing. A success
clears the failure count (Keycloak does the same).

Subjects never depend on whether the account exists (API.md "Cross-cutting"). The client
service's subjects (master, API key, user secret) are made in ``clients.internal.lockout``;
staff sign-in's in ``authcore.staff_login``. Subjects are hashed into the store keys so
identifiers and IPs do not sit in Redis in clear. The thresholds are the Django settings
``CLIENTS_LOCKOUT_MAX_FAILURES``, ``CLIENTS_LOCKOUT_WINDOW`` and ``CLIENTS_LOCKOUT_SECONDS``
(named for where they began; they apply to every subject).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from authcore.audit import record_event
from authcore.exceptions import CredentialLocked
from authcore.metrics import AUTH_FAILURES, RATE_LIMIT_HITS
from authcore.store import shared_store


class _Thresholds:
    """Django settings, not environment variables; a deployment may override them."""

    @property
    def LOCKOUT_MAX_FAILURES(self) -> int:
        """Failed attempts on one credential within the window before it is locked."""
        return int(getattr(settings, "CLIENTS_LOCKOUT_MAX_FAILURES", 5))

    @property
    def LOCKOUT_WINDOW(self) -> int:
        """Seconds over which failures are counted (Keycloak's "failure reset time")."""
        return int(getattr(settings, "CLIENTS_LOCKOUT_WINDOW", 900))

    @property
    def LOCKOUT_SECONDS(self) -> int:
        """Seconds a locked credential stays locked (Keycloak's "wait increment")."""
        return int(getattr(settings, "CLIENTS_LOCKOUT_SECONDS", 900))


app_settings = _Thresholds()
# Retry-After of an attempt refused while earlier ones are still being checked (seconds).
RESERVATION_RETRY_AFTER = 5


@dataclass(frozen=True)
class Subject:
    """One lockable credential: ``scope`` is ``master``, ``api_key`` or ``user_secret``."""

    scope: str
    parts: tuple[str, ...]

    @property
    def digest(self) -> str:
        joined = "\x1f".join(self.parts).encode("utf-8", "surrogatepass")
        return hashlib.sha256(joined).hexdigest()[:40]

    @property
    def failures_name(self) -> str:
        return f"lockout:{self.scope}:failures:{self.digest}"

    @property
    def lock_name(self) -> str:
        return f"lockout:{self.scope}:locked:{self.digest}"


@dataclass(frozen=True)
class LockState:
    """What the store holds for one subject: locked until when (epoch seconds), failures."""

    subject: Subject
    locked_until: float | None
    has_failures: bool

    def seconds_left(self, now: float | None = None) -> float:
        """Seconds until the lock ends (0 when there is none or it has ended)."""
        if self.locked_until is None:
            return 0.0
        return max(0.0, self.locked_until - (time.time() if now is None else now))

    def is_locked(self, now: float | None = None) -> bool:
        return self.seconds_left(now) > 0


def read_lock_states(*subjects: Subject) -> list[LockState]:
    """The lock state of every subject, read in one store round trip (one MGET)."""
    if not subjects:
        return []
    names = [name for s in subjects for name in (s.lock_name, s.failures_name)]
    values = shared_store().mget(names)
    now = time.time()
    states: list[LockState] = []
    for index, subject in enumerate(subjects):
        lock, failures = values[2 * index], values[2 * index + 1]
        until: float | None = None
        if lock is not None:
            try:
                until = float(lock)
            except ValueError:
                until = now + app_settings.LOCKOUT_SECONDS
        states.append(LockState(subject, until, failures is not None))
    return states


def raise_if_locked(state: LockState) -> None:
    """Raise ``CredentialLocked`` (429, ``Retry-After``) while ``state``'s lock lasts."""
    left = state.seconds_left()
    if left > 0:
        RATE_LIMIT_HITS.labels(scope="lockout").inc()
        raise CredentialLocked(retry_after=int(left) + 1)


def ensure_not_locked(*subjects: Subject) -> list[Subject]:
    """Raise ``CredentialLocked`` if any subject is locked (one store round trip).

    Returns:
        The subjects that have failures on record, for ``clear_failures`` after a success
        (so a clean success costs no second round trip).

    Raises:
        CredentialLocked: 429 with ``Retry-After`` = seconds until the lock ends.
    """
    states = read_lock_states(*subjects)
    for state in states:
        raise_if_locked(state)
    return [state.subject for state in states if state.has_failures]


def reserve_attempt(subject: Subject) -> int:
    """Count an attempt *before* its credential is checked (the master's: a human-chosen
    password, where a burst of parallel guesses must not each get past a lock none of them
    has reached yet). Settle it with ``settle_failure`` or ``clear_failures``.

    Returns:
        The attempt's number in the window.

    Raises:
        CredentialLocked: this attempt is beyond ``LOCKOUT_MAX_FAILURES`` (attempts still being
            checked count too), so its credential is not checked.
    """
    count = shared_store().incr(subject.failures_name, app_settings.LOCKOUT_WINDOW)
    if count > app_settings.LOCKOUT_MAX_FAILURES:
        RATE_LIMIT_HITS.labels(scope="lockout").inc()
        # Locked for good once the attempts in flight fail; if one succeeds the count clears,
        # so ask for a short wait, not the whole lock (a lock set meanwhile says its own).
        raise CredentialLocked(retry_after=RESERVATION_RETRY_AFTER)
    return count


def record_failure(subject: Subject, *, reason: str, target: str = "") -> bool:
    """Count one failed attempt; lock the subject when the threshold is reached.

    Returns:
        True if this failure locked the subject.
    """
    count = shared_store().incr(subject.failures_name, app_settings.LOCKOUT_WINDOW)
    return settle_failure(subject, count, reason=reason, target=target)


def settle_failure(subject: Subject, count: int, *, reason: str, target: str = "") -> bool:
    """The failure of an attempt already counted as number ``count`` (``reserve_attempt``):
    audit it and lock the subject when the threshold is reached. True if this locked it."""
    AUTH_FAILURES.labels(reason=reason).inc()
    store = shared_store()
    locked = count >= app_settings.LOCKOUT_MAX_FAILURES
    record_event(
        f"{subject.scope}.auth_failed",
        target=target,
        outcome="failure",
        detail={"reason": reason, "failures": count},
    )
    if locked:
        seconds = app_settings.LOCKOUT_SECONDS
        store.set(subject.lock_name, f"{time.time() + seconds:.3f}", ttl=seconds)
        # The count stays at the threshold for as long as the lock (attempts reserved meanwhile
        # are refused, not counted from one again); both end together, the next window fresh.
        store.set(subject.failures_name, str(count), ttl=seconds)
        record_event(
            f"{subject.scope}.locked_out",
            target=target,
            outcome="locked",
            detail={"seconds": seconds, "failures": count},
        )
    return locked


def clear_failures(subjects: Sequence[Subject]) -> None:
    """Forget the failures of subjects that just authenticated."""
    if subjects:
        shared_store().delete(*(subject.failures_name for subject in subjects))

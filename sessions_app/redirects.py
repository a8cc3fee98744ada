"""The ``next`` parameter of ``/auth/web/login``: same-origin paths only (no open redirect).

OWASP "Unvalidated Redirects and Forwards": accept only a relative path on this origin. Anything
a browser could read as another host — ``//host``, ``/\\host`` (browsers treat ``\\`` as ``/``),
``https://host``, tabs or newlines that browsers strip, and the same written percent-encoded —
falls back to ``/``.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from django.utils.http import url_has_allowed_host_and_scheme

FALLBACK = "/"
MAX_LENGTH = 2048
# Percent-decoding rounds examined: an attacker may encode twice for a sloppy downstream.
_DECODE_ROUNDS = 3


def _looks_safe(candidate: str, *, raw: bool) -> bool:
    if not candidate.startswith("/") or candidate.startswith("//"):
        return False
    if "\\" in candidate:
        return False
    if raw and any(ord(char) < 0x21 or ord(char) == 0x7F for char in candidate):
        return False  # spaces and control characters have no place in a Location header
    if any(char in "\t\r\n" for char in candidate):
        return False  # browsers strip these inside URLs: "/\t/evil" would become "//evil"
    parts = urlsplit(candidate)
    return not parts.scheme and not parts.netloc


def safe_next_path(value: object) -> str:
    """``value`` if it is a same-origin path (``/dash?x=1#y``), else ``/``."""
    if not isinstance(value, str) or not value or len(value) > MAX_LENGTH:
        return FALLBACK
    if not _looks_safe(value, raw=True):
        return FALLBACK
    candidate = value
    for _ in range(_DECODE_ROUNDS):
        decoded = unquote(candidate)
        if decoded == candidate:
            break
        if not _looks_safe(decoded, raw=False):
            return FALLBACK
        candidate = decoded
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return FALLBACK
    return value

"""Assertions that never print a secret when they fail.

pytest's assertion rewriting prints both operands of a failing ``a not in b`` or ``a == b``,
the custom message notwithstanding: a "never leaks" check that fails would print the very
secret it guards, and the page or log it found it in. These helpers decide first and assert
on a plain value, so a failure names the secret and the place, never their contents.
pyproject.toml's ``--tb=short`` keeps tracebacks from printing the tests' fixtures (their
reprs hold keys, secrets and session ids). For the same reason a status is taken into a local
before it is asserted (``answered = call(token).status_code; assert answered == 200``): the
explanation of ``assert call(token).status_code == 200`` prints the call with its arguments.
An empty secret fails ``assert_absent``: it would find nothing and prove nothing.
"""

from __future__ import annotations

import json
from typing import Any


def _text(haystack: str | bytes) -> str:
    return haystack.decode("utf-8", "replace") if isinstance(haystack, bytes) else haystack


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def assert_absent(haystack: str | bytes, where: str, **secrets: str | bytes) -> None:
    """None of ``secrets`` (name=value) occurs in ``haystack``; a failure names them only."""
    __tracebackhide__ = True
    empty = sorted(name for name, value in secrets.items() if not value)
    assert not empty, f"{', '.join(empty)}: empty, so its absence proves nothing"
    data = _bytes(haystack)
    found = sorted(name for name, value in secrets.items() if _bytes(value) in data)
    assert not found, f"{', '.join(found)} found in {where}"


def assert_distinct(first: str, second: str, what: str) -> None:
    """Two secrets differ; a failure does not print them."""
    __tracebackhide__ = True
    same = first == second
    assert not same, f"the two {what} are equal"


def outcome(response: Any) -> str:
    """A response's status and, for a JSON error, its ``code``: safe as an assertion message
    where the body of a successful answer holds a key, a secret or a token."""
    status = getattr(response, "status_code", "?")
    try:
        body = json.loads(_text(response.content))
    except (ValueError, AttributeError, TypeError):
        return f"status {status}"
    code = body.get("code") if isinstance(body, dict) else None
    return f"status {status}" + (f", code {code!r}" if code else "")

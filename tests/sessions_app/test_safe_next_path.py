"""The ``next`` checker never lets a browser leave for another host (property-tested)."""

from __future__ import annotations

from urllib.parse import unquote, urljoin, urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sessions_app.redirects import safe_next_path

BASE = "https://app.example/start/page"


def _browser_target_host(location: str) -> str | None:
    """Where a browser would go for ``Location: location``: it strips tabs and newlines,
    reads backslashes as slashes, and downstream code may percent-decode once more."""
    hosts = set()
    for variant in (location, unquote(location), unquote(unquote(location))):
        cleaned = "".join(c for c in variant if c not in "\t\r\n").replace("\\", "/")
        hosts.add(urlsplit(urljoin(BASE, cleaned)).hostname)
    return hosts.pop() if len(hosts) == 1 else None


url_alphabet = st.sampled_from([*"/\\:.%@?#&=abcEVIL0123 \t\n", "%2F", "%5C", "%2f", "//"])


@settings(max_examples=500)
@given(st.lists(url_alphabet, max_size=20).map("".join))
@example("//evil.example")
@example("/%2F%2Fevil.example")
@example("/%252F%252Fevil.example")
@example("/\\evil.example")
@example("https:evil.example")
def test_the_result_always_stays_on_this_host(value):
    result = safe_next_path(value)
    assert result == "/" or result == value
    assert _browser_target_host(result) == "app.example"


@given(st.text(max_size=60))
def test_any_text_gives_a_path_starting_with_one_slash(value):
    result = safe_next_path(value)
    assert result.startswith("/") and not result.startswith("//")


@pytest.mark.parametrize(
    "value", ["/", "/dashboard", "/a/b?c=d&e=%20f#frag", "/settings/passkeys", "/caf%C3%A9"]
)
def test_same_origin_paths_are_kept(value):
    assert safe_next_path(value) == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "dashboard",
        "//evil.example",
        "///evil.example",
        "https://evil.example/x",
        "http:/evil.example",
        "/\\evil.example",
        "/%5c%5cevil.example",
        "%2F%2Fevil.example",
        "/%2F%2Fevil.example",
        "/%252F%252Fevil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "/" + "a" * 5000,
    ],
)
def test_everything_else_falls_back_to_the_root(value):
    assert safe_next_path(value) == "/"

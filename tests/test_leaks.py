"""The never-leaks assertions fail when the secret is there, and say so without printing it."""

from __future__ import annotations

import pytest

from tests.leaks import assert_absent, assert_distinct

SECRET = "ak_abc.9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def test_a_secret_found_fails_naming_it_and_the_place_only() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_absent(f"<td>{SECRET}</td>".encode(), "the client page", api_key=SECRET)
    assert str(caught.value).startswith("api_key found in the client page")
    leaked = SECRET in caught.exconly()
    assert not leaked


def test_a_page_without_the_secret_passes() -> None:
    assert_absent("<td>ak_abc.…</td>", "the client page", api_key=SECRET)


def test_an_empty_secret_fails_rather_than_proving_nothing() -> None:
    with pytest.raises(AssertionError, match="secret: empty"):
        assert_absent("<td>ak_abc.…</td>", "the client page", secret="")


def test_equal_secrets_fail_without_printing_them() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_distinct(SECRET, SECRET, "API keys")
    leaked = SECRET in caught.exconly()
    assert not leaked
    assert_distinct(SECRET, SECRET + "x", "API keys")

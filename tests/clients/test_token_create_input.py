"""``POST /api/tokens`` validates a plain body without a DRF serializer; anything it accepts,
``TokenCreateInput`` accepts with the same result, and anything else still gets the
serializer's exact errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from clients.api.serializers import TokenCreateInput, plain_token_create_input
from tests.clients.conftest import Backend

values = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=300),
    st.integers(min_value=-5, max_value=10**30),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
    st.just("\x00"),
    st.just("\ud800"),
    st.just("  "),
)
bodies = st.dictionaries(
    st.sampled_from(["identifier", "secret", "expires_in", "other"]), values, max_size=4
)


@settings(max_examples=400, deadline=None)
@given(body=st.one_of(bodies, values))
@example(body={"identifier": "a", "secret": "s"})
@example(body={"identifier": "a", "secret": "s", "expires_in": 60})
@example(body={"identifier": "a" * 256, "secret": "s"})
@example(body={"identifier": "a", "secret": "s", "expires_in": True})
@example(body={"identifier": "a", "secret": "s", "expires_in": "60"})
@example(body={"identifier": "a\x00", "secret": "s"})
def test_the_fast_path_accepts_only_what_the_serializer_accepts_alike(body: Any) -> None:
    fast = plain_token_create_input(body)
    if fast is None:
        return
    serializer = TokenCreateInput(data=body)
    assert serializer.is_valid(), serializer.errors
    assert fast == dict(serializer.validated_data)


@pytest.mark.parametrize(
    "body",
    [
        {"identifier": "alice", "secret": "s3cr3t"},
        {"identifier": "alice", "secret": "s3cr3t", "expires_in": 3600, "extra": 1},
        {"identifier": " padded ", "secret": "x" * 256},
    ],
)
def test_a_plain_body_takes_the_fast_path(body: dict[str, Any]) -> None:
    assert plain_token_create_input(body) is not None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"identifier": "alice", "secret": "s", "expires_in": 0}, "expires_in"),
        ({"identifier": "alice"}, "secret"),
        ({"identifier": 5, "secret": "s"}, "identifier"),
        ({"identifier": "a\x00b", "secret": "s"}, "identifier"),
    ],
)
def test_other_bodies_still_get_the_serializers_400(
    api_client: APIClient, backend: Backend, body: dict[str, Any], fragment: str
) -> None:
    response = api_client.post("/api/tokens", body, format="json", headers=backend.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert fragment in response.json()["detail"]

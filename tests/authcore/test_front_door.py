"""The front door (``authcore.wsgi``): the probe and the public documents answered before Django,
with the same answer Django's path gives; anything out of the plain case still goes to Django.

Requests are made the way gunicorn makes them: a WSGI environ handed to the application.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core import signals
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from authcore import metrics
from authcore.front_door import FrontDoor
from authcore.store import shared_store
from authcore.wsgi import django_application
from tests.resilience.harness import free_port
from tokens import services
from tokens.internal import keyset

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENTS = ["/healthz", "/.well-known/jwks.json", "/.well-known/openid-configuration"]


class Reply:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = int(status.split()[0])
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        assert len(values) <= 1, f"{name} sent {len(values)} times"
        return values[0] if values else None

    def comparable_headers(self) -> dict[str, str]:
        """Every header but the per-request id, by lowercased name."""
        return {k.lower(): v for k, v in self.headers if k.lower() != "x-request-id"}


def call(app: Any, path: str, method: str = "GET", **headers: str) -> Reply:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        **{"HTTP_" + name.upper(): value for name, value in headers.items()},
    }
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        answer.update(status=status, headers=response_headers)

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return Reply(answer["status"], answer["headers"], body)


@pytest.fixture
def door(settings: Any) -> FrontDoor:
    services.rotate_keys()
    keyset.forget()
    # A new ALLOWED_HOSTS object: the host spellings allowed by earlier tests are forgotten.
    settings.ALLOWED_HOSTS = list(settings.ALLOWED_HOSTS)
    return FrontDoor(django_application)


@pytest.fixture
def django_requests() -> Iterator[list[object]]:
    """Each request that went through Django's request cycle."""
    seen: list[object] = []

    def receiver(**kwargs: Any) -> None:
        seen.append(kwargs)

    signals.request_started.connect(receiver)
    yield seen
    signals.request_started.disconnect(receiver)


def warm(door: FrontDoor) -> None:
    """One request through Django lets the edge layer allow this Host spelling."""
    assert call(door, "/healthz").status == 200


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_front_door_answers_exactly_what_django_answers(door, django_requests, path):
    warm(door)
    django_requests.clear()
    through_django = call(django_application, path)
    assert len(django_requests) == 1
    served = call(door, path)
    assert len(django_requests) == 1, "the front door passed the request on to Django"
    assert served.status == through_django.status == 200
    assert served.body == through_django.body
    assert served.comparable_headers() == through_django.comparable_headers()
    assert served.header("Content-Length") == str(len(served.body))
    assert served.header("X-Frame-Options") == "DENY"
    assert "origin" in (served.header("Vary") or "")


def test_a_matching_etag_gets_the_same_304_from_both_paths(door, django_requests):
    warm(door)
    etag = call(door, "/.well-known/jwks.json").header("ETag")
    assert etag
    django_requests.clear()
    served = call(door, "/.well-known/jwks.json", IF_NONE_MATCH=etag)
    assert not django_requests
    through_django = call(django_application, "/.well-known/jwks.json", IF_NONE_MATCH=etag)
    assert served.status == through_django.status == 304
    assert served.body == through_django.body == b""
    assert served.comparable_headers() == through_django.comparable_headers()
    assert served.header("Content-Length") is None  # RFC 9110 §8.6: not 0 on a 304
    assert served.header("Content-Type") is None


def test_a_rotation_shows_in_the_jwks_the_front_door_serves(door):
    warm(door)
    before = json.loads(call(door, "/.well-known/jwks.json").body)
    call_command("rotate_keys", "--now")
    keyset.forget()  # what the key-set version check does within a second on every instance
    after = json.loads(call(door, "/.well-known/jwks.json").body)
    assert {k["kid"] for k in after["keys"]} > {k["kid"] for k in before["keys"]}


def test_an_unseen_host_goes_through_django_and_a_foreign_one_is_refused_every_time(
    door, django_requests
):
    assert call(door, "/healthz").status == 200
    assert len(django_requests) == 1  # first sight of "localhost": Django checked it
    for _ in range(2):
        refused = call(door, "/healthz", HOST="evil.example")
        assert refused.status == 400
        assert json.loads(refused.body)["code"] == "bad_request"
    assert len(django_requests) == 3
    assert call(door, "/healthz").status == 200
    assert len(django_requests) == 3  # known now: answered at the door


def test_a_replaced_allowed_hosts_setting_is_checked_again(door, django_requests):
    warm(door)
    with override_settings(ALLOWED_HOSTS=["api.example"]):
        django_requests.clear()
        assert call(door, "/healthz").status == 400
        assert len(django_requests) == 1


@pytest.mark.parametrize(
    ("method", "headers"),
    [("HEAD", {}), ("POST", {}), ("GET", {"ORIGIN": "https://app.example"})],
)
def test_anything_but_a_plain_get_goes_to_django(door, django_requests, method, headers):
    warm(door)
    django_requests.clear()
    reply = call(door, "/.well-known/jwks.json", method, **headers)
    assert len(django_requests) == 1
    assert reply.status == (405 if method == "POST" else 200)


def test_a_cross_origin_read_still_gets_the_cors_answer(door):
    warm(door)
    with override_settings(CORS_ALLOWED_ORIGINS=["https://app.example"]):
        reply = call(door, "/.well-known/jwks.json", ORIGIN="https://app.example")
    assert reply.header("Access-Control-Allow-Origin") == "https://app.example"


def test_other_paths_go_to_django(door, django_requests):
    warm(door)
    django_requests.clear()
    assert call(door, "/healthz/").status == 404
    assert call(door, "/readyz").status == 200
    assert len(django_requests) == 2


def test_a_plausible_request_id_is_echoed_and_anything_else_replaced(door):
    warm(door)
    assert call(door, "/healthz", X_REQUEST_ID="probe-1234.abc").header("X-Request-ID") == (
        "probe-1234.abc"
    )
    for supplied in ["short", "evil\r\nSet-Cookie: a=b", "x" * 65]:
        replaced = call(door, "/healthz", X_REQUEST_ID=supplied).header("X-Request-ID")
        assert replaced and re.fullmatch(r"[0-9a-f]{32}", replaced)
    first = call(door, "/healthz").header("X-Request-ID")
    assert first != call(door, "/healthz").header("X-Request-ID")


def test_answers_at_the_door_are_counted_like_the_others(door):
    warm(door)

    def count(status: str) -> float:
        return metrics.HTTP_REQUESTS.labels(method="GET", status=status)._value.get()

    ok = count("200")
    call(door, "/healthz")
    call(door, "/.well-known/openid-configuration")
    assert count("200") == ok + 2


@contextmanager
def database_unreachable() -> Iterator[None]:
    """This thread's database connection points at a port nothing listens on: a real
    connection error, as when PostgreSQL is down."""
    settings_dict = connection.settings_dict
    port = settings_dict["PORT"]
    connection.close()
    settings_dict["PORT"] = str(free_port())
    try:
        yield
    finally:
        connection.close()
        settings_dict["PORT"] = port


def test_a_database_outage_while_the_jwks_reloads_serves_the_key_set_in_memory(door):
    warm(door)
    before = call(door, "/.well-known/jwks.json")
    shared_store().set(keyset.VERSION_NAME, "announced-by-another-instance")
    keyset.recheck()
    view = keyset.cached()
    assert view is not None  # a reload is due with or without Redis (older than any interval)
    keyset._keyset = dataclasses.replace(view, loaded_at=time.monotonic() - 3600)

    with database_unreachable():
        during = call(door, "/.well-known/jwks.json")

    assert during.status == 200
    assert during.body == before.body
    assert during.header("X-Frame-Options") == "DENY"


def test_a_database_outage_before_any_key_set_is_loaded_is_a_503_json_error(door):
    warm(door)
    keyset.forget()

    with database_unreachable():
        during = call(door, "/.well-known/jwks.json")

    assert during.status == 503
    assert json.loads(during.body)["code"] == "service_unavailable"
    assert during.header("X-Frame-Options") == "DENY"

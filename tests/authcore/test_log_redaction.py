"""Secrets never reach the logs: logged on purpose through structlog and stdlib logging, with
logging configured as production configures it (JSON lines), then read back from the output."""

from __future__ import annotations

import copy
import io
import json
import logging.config
from collections.abc import Iterator

import pytest
from django.http import HttpResponse
from django.utils.log import log_response

from tests.leaks import assert_absent

pytestmark = pytest.mark.urls("tests.authcore.urls")

SECRETS = {
    "password": "correct horse battery staple 42",
    "api_key": "ak_0123456789abcdef.Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg",
    "jwt": "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl",
    "cookie": "user_session_id=s3ss10nS3cr3tV4lu3",
}


@pytest.fixture
def production_logging(settings) -> Iterator[io.StringIO]:
    """The LOGGING of settings.py with LOG_FORMAT=json; its handler writes into a buffer."""
    config = copy.deepcopy(settings.LOGGING)
    config["formatters"]["structured"]["log_format"] = "json"
    config["root"]["level"] = "INFO"
    logging.config.dictConfig(config)
    output = io.StringIO()
    handler = next(h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler)
    handler.setStream(output)
    yield output
    logging.config.dictConfig(settings.LOGGING)


def test_secrets_logged_during_a_request_come_out_redacted(client, production_logging):
    response = client.post("/api/log", SECRETS, content_type="application/json")
    assert response.status_code == 200
    output = production_logging.getvalue()

    for name, secret in SECRETS.items():
        assert_absent(output, "the log", **{name: secret})
    assert_absent(
        output,
        "the log",
        session="s3ss10nS3cr3tV4lu3",
        basic="Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg",
    )
    assert "[redacted]" in output

    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    events = {line["event"].split(" ")[0] for line in lines}
    assert {"signing_in", "login", "api"} <= events  # structlog and both stdlib records
    request_id = response["X-Request-ID"]
    assert all(line.get("request_id") == request_id for line in lines)
    assert all(line.get("client_ip") == "127.0.0.1" for line in lines)
    structlog_line = next(line for line in lines if line["event"] == "signing_in")
    assert structlog_line["password"] == "[redacted]"
    assert structlog_line["headers"]["Authorization"] == "[redacted]"
    assert structlog_line["level"] == "info"


def test_a_database_url_password_is_redacted_from_free_text(production_logging):
    logging.getLogger("tests.authcore").error(
        "cannot connect to postgres://authcore:Sup3rS3cret@db:5432/authcore"
    )
    output = production_logging.getvalue()
    assert "Sup3rS3cret" not in output
    assert "postgres://[redacted]@db:5432/authcore" in output


def test_single_use_values_in_a_logged_url_are_redacted(production_logging, rf):
    """Django logs a 5xx with the request attached, whose repr holds the query string: an
    OIDC callback's code and state, or an email link's token, must not reach the log."""
    for url in (
        "/auth/web/callback?code=c0d3-s3cr3t&state=st4te-s3cr3t&iss=x",
        "/?token=l1nk-s3cr3t",
    ):
        request = rf.get(url)
        log_response(
            "Bad Gateway: %s", request.path, response=HttpResponse(status=502), request=request
        )

    output = production_logging.getvalue()
    assert "WSGIRequest" in output  # the request was logged
    for secret in ("c0d3-s3cr3t", "st4te-s3cr3t", "l1nk-s3cr3t"):
        assert_absent(output, "the log", secret=secret)
    assert "iss=x" in output  # the rest of the URL stays readable

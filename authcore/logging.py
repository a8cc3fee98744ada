"""Structured logs: JSON (test, production) or console (development), never holding a secret.

Every stdlib and structlog record goes through one processor chain: the request's id and
client IP (``bind_request``) and anything bound with structlog's contextvars are merged in, and
``redact_secrets`` removes passwords, secrets, API keys, bearer tokens, cookies and JWTs from
every event, whatever key or message they hide in.

The request's id and client IP live in one context variable of their own, set once per request
by the edge layer: binding them as two of structlog's contextvars (a variable per key, looked up
by name, and a token per key to reset) cost ~3 us of CPU per request, every request, for the few
that log anything; merging them costs that only when a line is written.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar, Token
from typing import Any

import structlog

REDACTED = "[redacted]"

# (request id, client IP) of the request this thread or task is serving, else None.
_request: ContextVar[tuple[str, str] | None] = ContextVar("authcore_request", default=None)


def bind_request(request_id: str, client_ip: str) -> Token[tuple[str, str] | None]:
    """Set the request's id and client IP for every log line and audit event until
    ``unbind_request(token)``."""
    return _request.set((request_id, client_ip))


def unbind_request(token: Token[tuple[str, str] | None]) -> None:
    _request.reset(token)


def request_context() -> dict[str, str]:
    """``{"request_id", "client_ip"}`` of the request being served, or ``{}`` outside one."""
    bound = _request.get()
    return {} if bound is None else {"request_id": bound[0], "client_ip": bound[1]}


def add_request_context(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: the request's id and client IP (a key the event sets wins)."""
    bound = _request.get()
    if bound is not None:
        event_dict.setdefault("request_id", bound[0])
        event_dict.setdefault("client_ip", bound[1])
    return event_dict


# Keys whose values are always secret, matched as substrings of the lowercased key.
SECRET_KEY_PARTS = (
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "x-api-key",
    "authorization",
    "cookie",
    "token",
    "session_id",
    "csrf",
    "code_verifier",
    "private",
    "credential_key",
)
# Keys that merely contain a secret word but hold no secret.
SAFE_KEYS = {"token_type", "token_count", "tokens_issued", "expires_in", "jti", "kid"}

_PATTERNS = [
    # JWTs (three base64url segments, header starting with eyJ)
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # Authorization header values
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    # Authcore API keys and user secrets (ak_/us_ prefixed)
    re.compile(r"\b(ak|us|acs)_[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}"),
    # Credentials in URLs (redis://:pw@host, postgres://user:pw@host)
    re.compile(r"(?<=://)[^/\s:@]*:[^/\s@]+(?=@)"),
    # Whole Authorization / Cookie header values, whatever the scheme
    re.compile(r"(?i)(?<=authorization: )[^\n\"',]+|(?<=cookie: )[^\n\"']+"),
    # key=value pairs in free text
    re.compile(
        r"(?i)\b(password|passwd|secret|api[_-]?key|token|session_id|csrf_token|cookie)"
        r"(\"?\s*[:=]\s*\"?)([^\s\",;&]+)"
    ),
]


# Single-use values in URLs (an OIDC callback's code and state, an email sign-in link's
# token), as Django's own request log lines print the request with its query string.
_QUERY_SECRET = re.compile(
    r"(?i)([?&](?:code|state|token|link_token|access_token|id_token|refresh_token)=)[^&\s'\">]+"
)


def _redact_text(text: str) -> str:
    for pattern in _PATTERNS[:-1]:
        text = pattern.sub(REDACTED, text)
    text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return _PATTERNS[-1].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered not in SAFE_KEYS and any(part in lowered for part in SECRET_KEY_PARTS)


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return value
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, dict):
        return {
            k: REDACTED if _is_secret_key(str(k)) else _redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(item, depth + 1) for item in value)
    if isinstance(value, bytes):
        return _redact_text(value.decode("utf-8", "replace"))
    if value is None or isinstance(value, bool | int | float):
        return value
    # Any other object is rendered by its repr (as the JSON renderer would), redacted: Django
    # attaches the request to its log records, whose repr holds the query string.
    return _redact_text(repr(value))


def redact_secrets(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no secret leaves the process in a log line."""
    return {
        key: REDACTED if _is_secret_key(key) else _redact(value)
        for key, value in event_dict.items()
    }


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        add_request_context,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]


def build_formatter(log_format: str = "json") -> logging.Formatter:
    """``logging.config`` factory: the stdlib formatter that renders every record."""
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if log_format == "console"
        else structlog.processors.JSONRenderer()
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *_shared_processors()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )


structlog.configure(
    processors=[
        structlog.stdlib.filter_by_level,
        *_shared_processors(),
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)

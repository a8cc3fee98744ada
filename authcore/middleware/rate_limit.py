"""Per-client-IP rate limits on every route, a stricter one on ``/api/auth/*``.

``RATE_LIMIT_GLOBAL`` counts every request except the health probes (``/healthz``, ``/readyz``)
and the public ``/.well-known/*`` documents (API.md); ``/metrics`` counts like any route, so a
scraper's requests are limited too. ``RATE_LIMIT_AUTH`` additionally counts ``/api/auth/*``.
A body declared larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused (413) once counted.
CORS preflights are answered by ``CorsMiddleware`` before this one and count nowhere, so a
cross-origin sign-in is not charged twice.
Both are read from settings on each request (parsed once per distinct value) and consumed in
one Redis round trip (``authcore.rate_limits``), which also reads ahead the keys a route
registered for its first store read (``authcore.store``, "Read-ahead"). Every limited
response carries ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset``; a refusal is 429
``rate_limited`` with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from authcore.audit import record_event
from authcore.client_ip import client_ip, client_network
from authcore.exception_handler import error_response
from authcore.metrics import RATE_LIMIT_HITS
from authcore.middleware.errors import declares_too_much, too_large
from authcore.middleware.security_headers import set_checked_headers
from authcore.rate_limits import Decision, Rate, consume, parse_rate, read_ahead_names
from authcore.store import read_ahead, shared_store

logger = structlog.get_logger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
EXEMPT_PREFIXES = ("/.well-known/",)
AUTH_PREFIX = "/api/auth/"


def is_exempt(path: str) -> bool:
    return path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIXES)


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Fail at startup, not on the first request, on a malformed setting.
        parse_rate(settings.RATE_LIMIT_GLOBAL)
        parse_rate(settings.RATE_LIMIT_AUTH)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info  # the route, without a script prefix (as URL resolution)
        if is_exempt(path):
            return self._answer(request)
        limits: list[tuple[str, Rate]] = [("global", parse_rate(settings.RATE_LIMIT_GLOBAL))]
        if path.startswith(AUTH_PREFIX):
            limits.append(("auth", parse_rate(settings.RATE_LIMIT_AUTH)))
        client = client_network(client_ip(request))  # an IPv6 client counts as its /64
        decision = consume(limits, client, read_ahead_names(request))
        if not decision.allowed:
            response = self._refuse(decision, client)
        elif decision.read is None:
            response = self._answer(request)
        else:
            with read_ahead(decision.read):
                response = self._answer(request)
        shown = decision.shown
        remaining, reset = shown.remaining, shown.reset
        if response.status_code == 429 and decision.allowed:
            # A brute-force lockout below refused it: show the refusal, not the IP's room.
            remaining, reset = 0, _seconds(response.headers.get("Retry-After"), reset)
        set_checked_headers(  # integers: digits only, nothing to validate
            response,
            {
                "x-ratelimit-limit": ("X-RateLimit-Limit", str(int(shown.limit))),
                "x-ratelimit-remaining": ("X-RateLimit-Remaining", str(int(remaining))),
                "x-ratelimit-reset": ("X-RateLimit-Reset", str(int(reset))),
            },
        )
        return response

    def _answer(self, request: HttpRequest) -> HttpResponse:
        if declares_too_much(request):
            # DRF's parsers read the stream directly, past DATA_UPLOAD_MAX_MEMORY_SIZE:
            # refuse by the declared length before anything reads the body.
            return too_large()
        return self.get_response(request)

    def _refuse(self, decision: Decision, client: str) -> HttpResponse:
        shown = decision.shown
        RATE_LIMIT_HITS.labels(scope=shown.scope).inc()
        logger.warning("rate_limited", scope=shown.scope, retry_after=shown.reset)
        # One audit event per client IP and scope while it stays refused, so a flood of
        # refused requests cannot flood the audit table (the metric counts every refusal).
        marker = f"ratelimit-audited:{shown.scope}:{client}"
        if shared_store().set(marker, b"1", ttl=max(1, shown.reset), only_new=True):
            try:
                record_event(
                    "rate_limit.refused",
                    target=f"ip:{client}",
                    outcome="refused",
                    detail={"reason": shown.scope, "retry_after": shown.reset},
                )
            except DatabaseError:  # the refusal stands even when the audit trail is down
                logger.warning("audit_write_failed", action="rate_limit.refused")
        return error_response(
            429,
            "rate_limited",
            "Rate limit exceeded",
            headers={"Retry-After": str(max(1, shown.reset))},
        )


def _seconds(value: str | None, default: int) -> int:
    """A ``Retry-After`` in seconds (Authcore writes digits), else ``default``."""
    return int(value) if value is not None and value.isdigit() else default

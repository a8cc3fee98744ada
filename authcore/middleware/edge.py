"""The outermost middleware: request id, security headers, JSON errors and request metrics.

These used to be separate middlewares; each layer Django stacks costs a call, an exception
wrapper and (for the headers) its own pass over the response, on every request including the
probes and public documents that are meant to cost next to nothing. One layer does the same
work, in the same order the four had (request id outermost, then security headers, metrics,
JSON errors):

- request id: a caller's ``X-Request-ID`` if it looks like one, else 128 random bits; bound
  with the client IP for the request (``authcore.logging.bind_request``: every log line and
  audit event carries both) and restored afterwards, so nothing leaks into the thread's next
  request (code that binds more keys during a request must use
  ``structlog.contextvars.bound_contextvars`` so they are undone too); sent back in
  ``X-Request-ID``;
- the contract's security headers on every response, errors included, and the no-store cache
  headers except on public documents (``mark_public_cacheable``);
- every 4xx Django itself produces as ``{"detail", "code"}`` JSON (``authcore.middleware.errors``);
- ``authcore_http_requests_total{method,status}`` and
  ``authcore_http_request_duration_seconds{method}``, with the labelled series looked up once;
- the ``ALLOWED_HOSTS`` check Django's ``CommonMiddleware`` made by calling
  ``request.get_host()`` on every request (a disallowed host is a 400 and a
  ``django.security.DisallowedHost`` log line, as there). ``get_host()`` matches the host
  against every ``ALLOWED_HOSTS`` pattern each time; here the outcome is remembered per
  (Host, X-Forwarded-Host, server name and port) for the allowed ones, so a request pays one
  set lookup. The front door (``authcore.front_door``) reads the same memory
  (``ALLOWED_HOST_SPELLINGS``) and sends any spelling not in it to Django;
- ``Content-Length`` on every response with content, as ``CommonMiddleware`` set it.
  ``CommonMiddleware``'s other work is not needed: the API has no ``APPEND_SLASH`` paths (the
  admin redirects to its trailing slash itself, and ``/admin`` has a route), and neither
  ``PREPEND_WWW`` nor ``DISALLOWED_USER_AGENTS`` is used.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import response_for_exception
from django.http import HttpRequest, HttpResponse

from authcore.client_ip import client_ip
from authcore.logging import bind_request, unbind_request
from authcore.metrics import HTTP_LATENCY, HTTP_REQUESTS
from authcore.middleware import errors
from authcore.middleware.security_headers import (
    NO_STORE_HEADERS,
    PUBLIC_CACHEABLE_ATTR,
    SECURITY_HEADERS,
    checked_items,
    set_checked_headers,
)

# A caller-supplied id is kept only if it looks like one (no log injection).
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Distinct allowed host spellings remembered per process (a bound against header spraying).
_MAX_KNOWN_HOSTS = 256

# Header values are constants checked once here (Django's own validation: ASCII, no newline),
# then written straight into the response's header store; see set_checked_headers.
_PUBLIC_ITEMS = checked_items(SECURITY_HEADERS)
_PRIVATE_ITEMS = {**_PUBLIC_ITEMS, **checked_items(NO_STORE_HEADERS)}


def contract_items(*, public: bool) -> dict[str, tuple[str, str]]:
    """The contract's headers as ``set_checked_headers`` takes them: the security headers on
    every answer, and the no-store headers unless it is a public document."""
    return _PUBLIC_ITEMS if public else _PRIVATE_ITEMS


def request_id_for(meta: dict[str, Any]) -> str:
    """The caller's ``X-Request-ID`` if it looks like one, else 128 random bits (hex)."""
    supplied = meta.get("HTTP_X_REQUEST_ID")
    return supplied if supplied and _VALID_ID.match(supplied) else os.urandom(16).hex()


class _AllowedHostSpellings:
    """The (Host, X-Forwarded-Host, server name, port) spellings ``request.get_host()``
    allowed, remembered per process (module doc); forgotten when ``ALLOWED_HOSTS`` is
    replaced (tests)."""

    def __init__(self) -> None:
        self._known: set[tuple[Any, ...]] = set()
        self._allowed_hosts: object = None

    @staticmethod
    def _key(meta: dict[str, Any]) -> tuple[Any, ...]:
        return (
            meta.get("HTTP_HOST"),
            meta.get("HTTP_X_FORWARDED_HOST"),
            meta.get("SERVER_NAME"),
            meta.get("SERVER_PORT"),
        )

    def known(self, meta: dict[str, Any]) -> bool:
        """True when this spelling was allowed before (a WSGI environ or ``request.META``)."""
        if settings.ALLOWED_HOSTS is not self._allowed_hosts:  # changed (tests): start over
            self._known = set()
            self._allowed_hosts = settings.ALLOWED_HOSTS
        return self._key(meta) in self._known

    def refusal(self, request: HttpRequest) -> DisallowedHost | None:
        """``request.get_host()``'s refusal, or None; an allowed spelling is remembered."""
        if self.known(request.META):
            return None
        try:
            request.get_host()
        except DisallowedHost as error:
            return error
        if len(self._known) < _MAX_KNOWN_HOSTS:
            self._known.add(self._key(request.META))
        return None


ALLOWED_HOST_SPELLINGS = _AllowedHostSpellings()

# Labelled series of the request metrics, looked up once per (method, status).
_series: dict[tuple[str, int], tuple[Any, Any]] = {}


def count_request(method: str | None, status: int, seconds: float) -> None:
    """``authcore_http_requests_total`` and ``authcore_http_request_duration_seconds``."""
    label = method if method in _METHODS else "OTHER"
    key = (label, status)
    series = _series.get(key)
    if series is None:
        series = (
            HTTP_REQUESTS.labels(method=label, status=str(status)),
            HTTP_LATENCY.labels(method=label),
        )
        _series[key] = series
    series[0].inc()
    series[1].observe(seconds)


def has_no_body(status: int) -> bool:
    """1xx, 204 and 304 answers carry no content, so no ``Content-Length`` (RFC 9110 §8.6)."""
    return status < 200 or status in (204, 304)


class EdgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = request_id_for(request.META)
        request.request_id = request_id  # type: ignore[attr-defined]
        bound = bind_request(request_id, client_ip(request))
        try:
            refused = ALLOWED_HOST_SPELLINGS.refusal(request)
            if refused is not None:  # a host we do not serve: refused before it is counted
                response = response_for_exception(request, refused)
            else:
                response = errors.as_json(request, self.get_response(request))
        finally:
            unbind_request(bound)
        set_checked_headers(
            response, contract_items(public=getattr(response, PUBLIC_CACHEABLE_ATTR, False))
        )
        items = {"x-request-id": ("X-Request-ID", request_id)}  # checked above
        if not (
            response.streaming
            or has_no_body(response.status_code)
            or "content-length" in response.headers
        ):
            # As Django's CommonMiddleware did: clients and proxies learn the size up front,
            # and the server need not frame the body in chunks.
            items["content-length"] = ("Content-Length", str(len(response.content)))
        set_checked_headers(response, items)
        count_request(request.method, response.status_code, time.perf_counter() - started)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return errors.exception_response(request, exception)

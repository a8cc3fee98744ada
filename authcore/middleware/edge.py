"""The outermost middleware: request id, security headers, JSON errors and request metrics.

These four used to be four middlewares; each layer Django stacks costs a call, an exception
wrapper and (for the headers) its own pass over the response, on every request including the
probes and public documents that are meant to cost next to nothing. One layer does the same
work, in the same order the four had (request id outermost, then security headers, metrics,
JSON errors):

- request id: a caller's ``X-Request-ID`` if it looks like one, else 128 random bits; bound
  with the client IP in structlog's contextvars for the request (every log line and audit
  event carries both) and restored afterwards, so nothing leaks into the thread's next request
  (code that binds more keys during a request must use ``structlog.contextvars.bound_contextvars``
  so they are undone too); sent back in ``X-Request-ID``;
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
  set lookup. ``CommonMiddleware``'s other work is not needed: the API has no
  ``APPEND_SLASH`` paths (the admin redirects to its trailing slash itself, and ``/admin``
  has a route), and neither ``PREPEND_WWW`` nor ``DISALLOWED_USER_AGENTS`` is used.
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
from structlog.contextvars import bind_contextvars, reset_contextvars

from authcore.client_ip import client_ip
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
_SECURITY_ITEMS = checked_items(SECURITY_HEADERS)
_ALL_ITEMS = {**_SECURITY_ITEMS, **checked_items(NO_STORE_HEADERS)}


class EdgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._series: dict[tuple[str, int], tuple[Any, Any]] = {}
        self._known_hosts: set[tuple[Any, ...]] = set()
        self._allowed_hosts: object = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        supplied = request.META.get("HTTP_X_REQUEST_ID")
        request_id = supplied if supplied and _VALID_ID.match(supplied) else os.urandom(16).hex()
        request.request_id = request_id  # type: ignore[attr-defined]
        bound = bind_contextvars(request_id=request_id, client_ip=client_ip(request))
        try:
            refused = self._refused_host(request)
            if refused is not None:
                response = response_for_exception(request, refused)
            elif errors.declares_too_much(request):
                # DRF's parsers read the stream directly, past DATA_UPLOAD_MAX_MEMORY_SIZE:
                # refuse by the declared length before anything reads the body.
                response = errors.too_large()
            else:
                response = errors.as_json(request, self.get_response(request))
        finally:
            reset_contextvars(**bound)
        if getattr(response, PUBLIC_CACHEABLE_ATTR, False):
            set_checked_headers(response, _SECURITY_ITEMS)
        else:
            set_checked_headers(response, _ALL_ITEMS)
        set_checked_headers(
            response, {"x-request-id": ("X-Request-ID", request_id)}
        )  # checked above
        self._count(request.method, response.status_code, time.perf_counter() - started)
        return response

    def _refused_host(self, request: HttpRequest) -> DisallowedHost | None:
        """``request.get_host()``'s refusal, or None; allowed hosts are remembered (module
        doc)."""
        if settings.ALLOWED_HOSTS is not self._allowed_hosts:  # changed (tests): start over
            self._known_hosts = set()
            self._allowed_hosts = settings.ALLOWED_HOSTS
        meta = request.META
        key = (
            meta.get("HTTP_HOST"),
            meta.get("HTTP_X_FORWARDED_HOST"),
            meta.get("SERVER_NAME"),
            meta.get("SERVER_PORT"),
        )
        if key in self._known_hosts:
            return None
        try:
            request.get_host()
        except DisallowedHost as error:
            return error
        if len(self._known_hosts) < _MAX_KNOWN_HOSTS:
            self._known_hosts.add(key)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return errors.exception_response(exception)

    def _count(self, method: str | None, status: int, seconds: float) -> None:
        label = method if method in _METHODS else "OTHER"
        key = (label, status)
        series = self._series.get(key)
        if series is None:
            series = (
                HTTP_REQUESTS.labels(method=label, status=str(status)),
                HTTP_LATENCY.labels(method=label),
            )
            self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)

"""Errors raised outside DRF become ``{"detail", "code"}`` JSON, never an HTML page.

Django turns ``SuspiciousOperation`` (bad Host, oversized body…) into its ``handler400`` and
unknown URLs into ``handler404`` (both JSON, see ``authcore.error_views``); this middleware
covers what reaches it as an exception or as a non-JSON 4xx from Django itself (405 from a
class-based view, for one), so every 4xx a client sees has the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from authcore.exception_handler import error_response

_CODES = {
    400: ("bad_request", "Bad request."),
    403: ("permission_denied", "Permission denied."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("payload_too_large", "Request body too large."),
}


class JsonErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _declares_too_much(request):
            # DRF's parsers read the stream directly, past DATA_UPLOAD_MAX_MEMORY_SIZE: refuse
            # by the declared length before anything reads the body.
            return error_response(413, *_CODES[413])
        response = self.get_response(request)
        status = response.status_code
        content_type = response.get("Content-Type", "")
        if 400 <= status < 500 and "json" not in content_type and not _is_html_page(request):
            code, detail = _CODES.get(status) or _generic(status)
            new = error_response(status, code, detail)
            for header in ("Allow", "WWW-Authenticate", "Retry-After"):
                if header in response:
                    new[header] = response[header]
            return new
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestDataTooBig):
            return error_response(413, *_CODES[413])
        if isinstance(exception, SuspiciousOperation):
            return error_response(400, *_CODES[400])
        if isinstance(exception, OperationalError | InterfaceError):
            # The database is unreachable: fail closed with a clear, retryable 503 (not a 500).
            return error_response(
                503,
                "service_unavailable",
                "The service is temporarily unavailable.",
                headers={"Retry-After": "5"},
            )
        return None


def _generic(status: int) -> tuple[str, str]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "client_error", "The request could not be processed."
    return phrase.lower().replace(" ", "_").replace("-", "_"), f"{phrase}."


def _declares_too_much(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is not None and length > limit


def _is_html_page(request: HttpRequest) -> bool:
    """The admin and the demo page keep Django's HTML errors (staff and people read them)."""
    return request.path.startswith("/admin/")

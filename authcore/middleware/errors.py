"""Errors raised outside DRF become ``{"detail", "code"}`` JSON, never an HTML page.

Django turns ``SuspiciousOperation`` (bad Host, oversized body…) into its ``handler400`` and
unknown URLs into ``handler404`` (both JSON, see ``authcore.error_views``); this middleware
covers what reaches it as an exception or as a non-JSON 4xx from Django itself (405 from a
class-based view, for one), so every 4xx a client sees has the same shape.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
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
        response = self.get_response(request)
        status = response.status_code
        content_type = response.get("Content-Type", "")
        if status in _CODES and "json" not in content_type and not _is_html_page(request):
            code, detail = _CODES[status]
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
        return None


def _is_html_page(request: HttpRequest) -> bool:
    """The admin and the demo page keep Django's HTML errors (staff and people read them)."""
    return request.path.startswith("/admin/")

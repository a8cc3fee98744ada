"""Errors raised outside DRF become ``{"detail", "code"}`` JSON, never an HTML page.

Django turns ``SuspiciousOperation`` (bad Host, oversized body…) into its ``handler400`` and
unknown URLs into ``handler404`` (both JSON, see ``authcore.error_views``); the edge middleware
(``authcore.middleware.edge``) uses the helpers below for what reaches it as an exception or as
a non-JSON 4xx from Django itself (405 from a class-based view, for one), so every 4xx a client
sees has the same shape.
"""

from __future__ import annotations

from http import HTTPStatus

import structlog
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

from authcore.exception_handler import error_response
from authcore.exceptions import DeletedMeanwhile
from authcore.integrity import refers_to_a_deleted_row

logger = structlog.get_logger(__name__)

_CODES = {
    400: ("bad_request", "Bad request."),
    403: ("permission_denied", "Permission denied."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("payload_too_large", "Request body too large."),
}


def too_large() -> HttpResponse:
    return error_response(413, *_CODES[413])


def as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A non-JSON 4xx (outside the admin's HTML pages) replaced by its JSON form."""
    status = response.status_code
    if status < 400 or status >= 500:
        return response
    if "json" in response.get("Content-Type", "") or _is_html_page(request):
        return response
    code, detail = _CODES.get(status) or _generic(status)
    new = error_response(status, code, detail)
    for header in ("Allow", "WWW-Authenticate", "Retry-After"):
        if header in response:
            new[header] = response[header]
    return new


def exception_response(request: HttpRequest, exception: Exception) -> HttpResponse | None:
    """The JSON answer to an exception a view raised, or None to let Django handle it."""
    if isinstance(exception, RequestDataTooBig):
        return too_large()
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
    if (
        isinstance(exception, IntegrityError)
        and refers_to_a_deleted_row(exception)
        and not _is_html_page(request)  # staff get Django's error page (and its log)
    ):
        # Most often the request's user, deleted by staff during a sign-in or a token exchange
        # (tests/authcore/test_user_deletion_races.py and the races beside it). Logged with
        # its traceback, so a bug that writes a dangling reference still shows.
        logger.warning("reference_deleted_meanwhile", exc_info=exception)
        gone = DeletedMeanwhile()
        return error_response(gone.status_code, gone.code, gone.detail)
    return None


def _generic(status: int) -> tuple[str, str]:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "client_error", "The request could not be processed."
    return phrase.lower().replace(" ", "_").replace("-", "_"), f"{phrase}."


def declares_too_much(request: HttpRequest) -> bool:
    length = request.META.get("CONTENT_LENGTH")
    if not length:
        return False
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        return limit is not None and int(length) > limit
    except ValueError:
        return False


def _is_html_page(request: HttpRequest) -> bool:
    """The admin keeps Django's HTML errors (staff read them)."""
    return request.path.startswith("/admin/")

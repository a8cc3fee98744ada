"""Django-level error handlers (outside DRF): JSON bodies with stable codes."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from authcore.exception_handler import error_response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(400, "bad_request", "Bad request.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(403, "permission_denied", "Permission denied.")


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(404, "not_found", "Not found.")


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(500, "server_error", "Internal server error.")

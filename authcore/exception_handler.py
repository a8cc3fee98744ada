"""The one place where errors become HTTP responses: ``{"detail", "code"}`` and a 4xx.

DRF calls ``handle_exception`` for everything raised in an API view; Django's own error
handlers (``handler400`` … in ``authcore.urls``) use ``error_response`` for what happens
outside DRF (unknown URLs, bad Host headers, oversized bodies).
"""

from __future__ import annotations

from typing import Any

import structlog
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from authcore.exceptions import AuthcoreError

logger = structlog.get_logger(__name__)


def error_response(
    status: int, code: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code, **extra}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _flatten(errors: Any, prefix: str = "") -> list[str]:
    """DRF validation errors as ``field: message`` lines, deepest field path first."""
    if isinstance(errors, dict):
        lines: list[str] = []
        for field, value in errors.items():
            name = str(field) if field != "non_field_errors" else ""
            lines += _flatten(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return lines
    if isinstance(errors, list):
        return [line for item in errors for line in _flatten(item, prefix)]
    return [f"{prefix}: {errors}" if prefix else str(errors)]


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF ``EXCEPTION_HANDLER``: typed errors and DRF's own, all as ``{"detail", "code"}``."""
    if isinstance(exc, AuthcoreError):
        set_rollback()
        return Response(
            {"detail": exc.detail, "code": exc.code}, status=exc.status_code, headers=exc.headers
        )
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    if isinstance(exc, drf_exceptions.ValidationError):
        set_rollback()
        lines = _flatten(exc.detail)
        return Response(
            {"detail": "; ".join(lines) or "Invalid input.", "code": "invalid_request"},
            status=400,
        )
    if isinstance(exc, drf_exceptions.APIException):
        set_rollback()
        headers: dict[str, str] = {}
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf_exceptions.Throttled) and wait:
            headers["Retry-After"] = str(int(wait) + 1)
        code = exc.get_codes()
        if isinstance(exc, drf_exceptions.ParseError):
            code = "malformed_json"
        detail = exc.detail if isinstance(exc.detail, str) else "; ".join(_flatten(exc.detail))
        return Response(
            {"detail": str(detail), "code": code if isinstance(code, str) else "error"},
            status=exc.status_code,
            headers=headers,
        )
    return None  # a bug: Django's 500 handler answers without details and logs it

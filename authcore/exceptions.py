"""Authcore's typed errors. Each has an HTTP status, a stable ``code`` and a human ``detail``.

``authcore.exception_handler.handle_exception`` is the one place they become responses.
Apps subclass ``AuthcoreError`` in their own ``exceptions.py``:

    class SignCountRegressed(AuthcoreError):
        status_code = 400
        code = "sign_count_regressed"
        detail = "This passkey reported an older signature counter."
"""

from __future__ import annotations


class AuthcoreError(Exception):
    status_code: int = 400
    code: str = "invalid_request"
    detail: str = "The request is invalid."
    # Extra response headers (e.g. WWW-Authenticate, Retry-After).
    headers: dict[str, str] = {}

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None):
        if detail is not None:
            self.detail = detail
        self.headers = {**type(self).headers, **(headers or {})}
        super().__init__(self.detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r})"


class ValidationFailed(AuthcoreError):
    status_code = 400
    code = "invalid_request"
    detail = "The request body is invalid."


class NotAuthenticated(AuthcoreError):
    status_code = 401
    code = "not_authenticated"
    detail = "Authentication credentials were not provided."


class AuthenticationFailed(AuthcoreError):
    status_code = 401
    code = "authentication_failed"
    detail = "Invalid credentials."


class PermissionDenied(AuthcoreError):
    status_code = 403
    code = "permission_denied"
    detail = "You do not have permission to perform this action."


class NotFound(AuthcoreError):
    status_code = 404
    code = "not_found"
    detail = "Not found."


class Conflict(AuthcoreError):
    status_code = 409
    code = "conflict"
    detail = "The resource already exists."


class DeletedMeanwhile(Conflict):
    """A row the request's write refers to (its user, most often) was deleted on another
    connection while the request ran: the write was refused and rolled back."""

    detail = "Something this request refers to was deleted while it ran; nothing was saved."


class RateLimited(AuthcoreError):
    status_code = 429
    code = "rate_limited"
    detail = "Rate limit exceeded"

    def __init__(self, retry_after: int, detail: str | None = None):
        super().__init__(detail, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = max(1, int(retry_after))


class CredentialLocked(RateLimited):
    """Brute-force lockout: the same 429 as a rate limit (API.md "Cross-cutting")."""

    code = "rate_limited"
    detail = "Rate limit exceeded"


class ServiceUnavailable(AuthcoreError):
    status_code = 503
    code = "service_unavailable"
    detail = "The service is temporarily unavailable."

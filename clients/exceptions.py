"""Typed errors of the client service, each with a stable ``code`` (API.md "Client service")."""

from __future__ import annotations

from authcore.exceptions import (
    AuthenticationFailed,
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

# The WWW-Authenticate challenges of the two schemes (RFC 9110 §11.6.1).
MASTER_CHALLENGE = 'Basic realm="authcore-master", charset="UTF-8"'
API_KEY_CHALLENGE = 'ApiKey header="x-api-key"'


class MasterDisabled(PermissionDenied):
    code = "master_disabled"
    detail = "Client creation is disabled: MASTER_USERNAME and MASTER_PASSWORD are not configured."


class MasterOriginNotAllowed(PermissionDenied):
    """A browser sent master credentials from a page outside the allowed origins: the
    credentials a browser cached after a Basic prompt ride along on cross-site form posts."""

    code = "origin_not_allowed"
    detail = "Origin not allowed"


class MasterCredentialsMissing(NotAuthenticated):
    code = "not_authenticated"
    detail = "Master credentials (HTTP Basic) are required."
    headers = {"WWW-Authenticate": MASTER_CHALLENGE}


class InvalidMasterCredentials(AuthenticationFailed):
    code = "invalid_master_credentials"
    detail = "Invalid master credentials."
    headers = {"WWW-Authenticate": MASTER_CHALLENGE}


class ApiKeyMissing(NotAuthenticated):
    code = "not_authenticated"
    detail = "An API key is required in the x-api-key header."
    headers = {"WWW-Authenticate": API_KEY_CHALLENGE}


class InvalidApiKey(AuthenticationFailed):
    code = "invalid_api_key"
    detail = "Invalid API key."
    headers = {"WWW-Authenticate": API_KEY_CHALLENGE}


class InvalidUserCredentials(AuthenticationFailed):
    """Wrong identifier and wrong secret are this same error (no user enumeration)."""

    code = "invalid_credentials"
    detail = "Invalid identifier or secret."


class ClientNotFound(NotFound):
    code = "not_found"
    detail = "No such client."


class TokenNotFound(NotFound):
    code = "not_found"
    detail = "No such token."


class IdentifierTaken(Conflict):
    code = "identifier_taken"
    detail = "A user with this identifier already exists for this client."


class ExpiresInTooLarge(ValidationFailed):
    code = "expires_in_too_large"
    detail = "expires_in is larger than the longest token lifetime allowed (TOKEN_MAX_TTL)."

"""Who may call a client-service endpoint; each refusal is a typed error with its header."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from authcore.exceptions import NotAuthenticated
from clients.authentication import Master, PresentedApiKey
from clients.exceptions import ApiKeyMissing, MasterCredentialsMissing
from clients.models import Client


class IsMaster(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, Master):
            raise MasterCredentialsMissing()
        return True


class HasClientApiKey(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, Client):
            raise ApiKeyMissing()
        return True


class HasPresentedApiKey(BasePermission):
    """An API key was sent (checked by the view itself, see ``DeferredApiKeyAuthentication``)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, PresentedApiKey):
            raise ApiKeyMissing()
        return True


class HasClientApiKeyOrUser(BasePermission):
    """A client's API key, or a signed-in user (Bearer token or session)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if isinstance(request.auth, Client) or request.user is not None:
            return True
        raise NotAuthenticated(
            "An API key (x-api-key) or a Bearer token is required.",
            headers={"WWW-Authenticate": 'Bearer realm="authcore"'},
        )


class IsSignedInUser(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user is None or not getattr(request.user, "is_authenticated", False):
            raise NotAuthenticated(headers={"WWW-Authenticate": 'Bearer realm="authcore"'})
        return True

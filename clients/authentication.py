"""DRF authentication of the client service: ``x-api-key`` and the master HTTP Basic.

``ApiKeyAuthentication`` sets ``request.user = None`` and ``request.auth = Client``;
``MasterBasicAuthentication`` sets ``request.auth = MASTER``. Both return None when their
header is absent (not my scheme, as DRF's classes do) and raise typed errors otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, BasicAuthentication
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request

from authcore.client_ip import client_ip
from authcore.origins import is_allowed_origin
from clients import app_settings
from clients.exceptions import (
    API_KEY_CHALLENGE,
    InvalidMasterCredentials,
    MasterDisabled,
    MasterOriginNotAllowed,
)
from clients.models import Client
from clients.services import authenticate_api_key, authenticate_master, master_enabled


class Master:
    """``request.auth`` of a request authenticated with the master credentials."""

    def __repr__(self) -> str:
        return "<Master>"


MASTER = Master()


def presented_api_key(request: HttpRequest | Request, *, fallback: bool = False) -> str | None:
    """The ``x-api-key`` header, stripped; with ``fallback``, else the deployment's
    ``CLIENT_API_KEY``; None when there is neither. Also read by ``clients.read_ahead``."""
    value = (request.META.get("HTTP_X_API_KEY") or "").strip()
    return value or (app_settings.CLIENT_API_KEY if fallback else "") or None


class ApiKeyAuthentication(BaseAuthentication):
    """A client's API key in the ``x-api-key`` header."""

    def _presented(self, request: Request) -> str | None:
        return presented_api_key(request)

    def authenticate(self, request: Request) -> tuple[None, Client] | None:
        presented = self._presented(request)
        if presented is None:
            return None
        return None, authenticate_api_key(presented=presented, ip=client_ip(request))

    def authenticate_header(self, request: Request) -> str:
        return API_KEY_CHALLENGE


class ApiKeyOrFallbackAuthentication(ApiKeyAuthentication):
    """``x-api-key``, else the deployment's ``CLIENT_API_KEY`` (only ``POST /api/tokens``)."""

    def _presented(self, request: Request) -> str | None:
        return presented_api_key(request, fallback=True)


@dataclass(frozen=True)
class PresentedApiKey:
    """``request.auth`` of ``POST /api/tokens`` before the key is checked: the view checks it
    together with the user's credentials (``clients.token_services.issue_token_for_api_key``)."""

    value: str = field(repr=False)
    ip: str
    fallback: bool = False  # no x-api-key header: the deployment's CLIENT_API_KEY


def sent_no_api_key(request: HttpRequest | Request) -> bool:
    """No ``x-api-key`` header: ``CLIENT_API_KEY``, if any, stands in (anyone may do that)."""
    return not (request.META.get("HTTP_X_API_KEY") or "").strip()


class DeferredApiKeyAuthentication(ApiKeyOrFallbackAuthentication):
    """``x-api-key``, else ``CLIENT_API_KEY``, handed to the view unchecked (one pass)."""

    def authenticate(self, request: Request) -> tuple[None, Any] | None:
        presented = self._presented(request)
        if presented is None:
            return None
        return None, PresentedApiKey(
            value=presented, ip=client_ip(request), fallback=sent_no_api_key(request)
        )


def _origin_allowed(request: Request) -> bool:
    """No ``Origin`` (a server, curl, an SDK) or a trusted one (``authcore.origins``). A browser
    sends ``Origin`` on every cross-origin POST, so a page elsewhere cannot have a browser that
    cached the master credentials (after a Basic prompt) change anything."""
    origin = request.META.get("HTTP_ORIGIN")
    return origin is None or is_allowed_origin(origin)


class MasterBasicAuthentication(BasicAuthentication):
    """HTTP Basic with ``MASTER_USERNAME``/``MASTER_PASSWORD`` (DRF parses the header).

    With no master credentials configured every request is refused with 403
    ``master_disabled``, whatever it sends: there is no default password.
    """

    www_authenticate_realm = "authcore-master"

    def authenticate(self, request: Request) -> tuple[None, Master] | None:
        if not master_enabled():
            raise MasterDisabled()
        if (
            request.method not in SAFE_METHODS
            and request.META.get("HTTP_AUTHORIZATION")
            and not _origin_allowed(request)
        ):  # only a request that carries credentials: without any it is the usual 401
            raise MasterOriginNotAllowed()
        try:
            result = super().authenticate(request)
        except exceptions.AuthenticationFailed:  # DRF's malformed-header errors
            raise InvalidMasterCredentials() from None
        return None if result is None else (None, MASTER)

    def authenticate_credentials(
        self, userid: str, password: str, request: Any = None
    ) -> tuple[Any, Any]:
        authenticate_master(username=userid, password=password, ip=client_ip(request))
        return None, MASTER

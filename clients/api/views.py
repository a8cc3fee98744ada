"""Endpoints of the client service (API.md "Client service"): parse, call one service, answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clients.api import schema  # noqa: F401 - registers the OpenAPI security schemes
from clients.api import serializers as s
from clients.api.permissions import (
    HasClientApiKey,
    HasClientApiKeyOrUser,
    HasPresentedApiKey,
    IsMaster,
    IsSignedInUser,
)
from clients.authentication import (
    ApiKeyAuthentication,
    DeferredApiKeyAuthentication,
    MasterBasicAuthentication,
    PresentedApiKey,
)
from clients.models import Client
from clients.selectors import profile_of
from clients.services import (
    authenticate_api_key,
    create_client,
    create_client_user,
    rotate_client_key,
)
from clients.token_services import (
    delete_token_of_client,
    introspect_token,
    issue_token_for_api_key,
    revoke_token_as_client,
    revoke_token_as_user,
)
from tokens.authentication import BearerTokenAuthentication

_INTROSPECTION = inline_serializer(
    "Introspection",
    {"active": drf_serializers.BooleanField(help_text="RFC 7662; claims follow when true")},
)
_EMPTY = inline_serializer("Empty", {})


def _client(request: Request) -> Client:
    """The client that authenticated (the permission class has made sure there is one)."""
    client = request.auth
    assert isinstance(client, Client)
    return client


def _parse(serializer_class: type[s.serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ClientCreateView(APIView):
    """``POST /api/clients`` (master): a new client and its API key, shown this once."""

    authentication_classes = [MasterBasicAuthentication]
    permission_classes = [IsMaster]

    @extend_schema(request=s.ClientCreateInput, responses={201: s.ClientCreateOutput})
    def post(self, request: Request) -> Response:
        data = _parse(s.ClientCreateInput, request)
        created = create_client(name=data["name"])
        body = {
            "id": created.client.pk,
            "name": created.client.name,
            "api_key": created.api_key,
            "created_at": created.client.created_at,
        }
        return Response(s.ClientCreateOutput(body).data, status=201)


class ClientRotateKeyView(APIView):
    """``POST /api/clients/{id}/rotate-key`` (master): a new key; the old one dies at once."""

    authentication_classes = [MasterBasicAuthentication]
    permission_classes = [IsMaster]

    @extend_schema(request=None, responses={200: s.ApiKeyOutput})
    def post(self, request: Request, client_id: str) -> Response:
        rotated = rotate_client_key(client_id=client_id)
        return Response(s.ApiKeyOutput({"api_key": rotated.api_key}).data)


class UserCreateView(APIView):
    """``POST /api/users`` (x-api-key): a user of the calling client and its one-time secret."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasClientApiKey]

    @extend_schema(request=s.UserCreateInput, responses={201: s.UserCreateOutput})
    def post(self, request: Request) -> Response:
        data = _parse(s.UserCreateInput, request)
        client = _client(request)
        created = create_client_user(
            client=client, identifier=data["identifier"], email=data.get("email", "")
        )
        body = {
            "id": str(created.client_user.user_id),
            "identifier": created.client_user.identifier,
            "secret": created.secret,
        }
        return Response(s.UserCreateOutput(body).data, status=201)


class TokenCreateView(APIView):
    """``POST /api/tokens`` (x-api-key, else CLIENT_API_KEY): identifier + secret -> token."""

    authentication_classes = [DeferredApiKeyAuthentication]
    permission_classes = [HasPresentedApiKey]

    @extend_schema(request=s.TokenCreateInput, responses={201: s.TokenCreateOutput})
    def post(self, request: Request) -> Response:
        key = request.auth
        assert isinstance(key, PresentedApiKey)
        try:
            sent = request.data
        except ParseError:  # a bad key is still a 401 before a bad body, as everywhere
            authenticate_api_key(presented=key.value, ip=key.ip)
            raise
        data = s.plain_token_create_input(sent)
        if data is None:  # anything but the plain body: the serializer, for its exact errors
            serializer = s.TokenCreateInput(data=sent)
            if not serializer.is_valid():
                # A bad key is still a 401 before any body error, as on every other endpoint.
                authenticate_api_key(presented=key.value, ip=key.ip)
                serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        issued = issue_token_for_api_key(
            presented=key.value,
            ip=key.ip,
            identifier=data["identifier"],
            secret=data["secret"],
            expires_in=data.get("expires_in"),
            fallback=key.fallback,
        )
        body = {
            "access_token": issued.raw,
            "token_type": issued.token_type,
            "expires_in": issued.expires_in,
            "jti": issued.jti,
        }
        return Response(body, status=201)  # TokenCreateOutput's shape (the schema's)


class TokenIntrospectView(APIView):
    """``POST /api/tokens/introspect`` (x-api-key): RFC 7662, own tokens only."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasClientApiKey]

    @extend_schema(request=s.TokenInput, responses={200: _INTROSPECTION})
    def post(self, request: Request) -> Response:
        data = _parse(s.TokenInput, request)
        return Response(introspect_token(client=_client(request), raw=data["token"]))


class TokenRevokeView(APIView):
    """``POST /api/tokens/revoke``: RFC 7009, by the token's client or its bearer; always 200."""

    authentication_classes = [ApiKeyAuthentication, BearerTokenAuthentication]
    permission_classes = [HasClientApiKeyOrUser]

    @extend_schema(request=s.TokenRevokeInput, responses={200: _EMPTY})
    def post(self, request: Request) -> Response:
        data = _parse(s.TokenRevokeInput, request)
        token, jti = data.get("token"), data.get("jti")
        if isinstance(request.auth, Client):
            revoke_token_as_client(client=_client(request), token=token, jti=jti)
        else:
            revoke_token_as_user(user=request.user, token=token, jti=jti)
        # RFC 7009 §2.2: 200 whether or not anything was revoked.
        return Response({})


class TokenDeleteView(APIView):
    """``DELETE /api/tokens/{jti}`` (its client's x-api-key): 204; unknown or foreign: 404."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasClientApiKey]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, jti: str) -> Response:
        delete_token_of_client(client=_client(request), jti=jti)
        return Response(status=204)


class MeView(APIView):
    """``GET /api/me`` (Bearer or session, the default authentication)."""

    permission_classes = [IsSignedInUser]

    @extend_schema(responses={200: s.MeOutput})
    def get(self, request: Request) -> Response:
        client_id = getattr(request.auth, "client_id", None)
        # profile_of already has MeOutput's shape and types; the serializer stays the schema's.
        return Response(profile_of(user=request.user, client_id=client_id))

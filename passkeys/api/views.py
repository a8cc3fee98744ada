"""HTTP endpoints of the passkeys app: parse input, call one service, serialize the result."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authcore.exceptions import NotAuthenticated, ValidationFailed
from passkeys import selectors, services
from passkeys.api import serializers as s
from passkeys.email_code import services as email_services


class _SignedInOnly(IsAuthenticated):
    """Bearer or session; a missing credential is 401 ``not_authenticated``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user is None:
            raise NotAuthenticated()
        return True


def _sign_in_response(
    request: Request, sign_in: services.SignIn, *, open_session: bool, status: int = 200
) -> Response:
    body: dict[str, Any] = {**s.token_json(sign_in.token), "user": s.user_json(sign_in.user)}
    response = Response(body, status=status)
    if open_session:
        from sessions_app.services import open_session as open_browser_session

        method = "passkey" if sign_in.passkey is not None else "email"
        open_browser_session(request=request, response=response, user=sign_in.user, method=method)
    return response


class RegistrationOptionsView(APIView):
    """``POST /api/auth/passkey/register/options``: sign up, or (signed in) add a passkey."""

    @extend_schema(
        request=s.RegistrationOptionsInputSerializer, responses={200: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request) -> Response:
        data = s.RegistrationOptionsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if request.user is None and not data.validated_data["username"]:
            raise ValidationFailed("username: This field is required.")
        options = services.begin_registration(
            user=request.user,
            username=data.validated_data["username"],
            display_name=data.validated_data["display_name"],
        )
        return Response(options)


class RegistrationVerifyView(APIView):
    """``POST /api/auth/passkey/register/verify``: 201 user, credential and token."""

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = s.RegistrationVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sign_in = services.finish_registration(
            body=dict(request.data), user=request.user, name=data.validated_data["name"]
        )
        body = {
            "user": s.user_json(sign_in.user),
            "credential": s.PasskeyOutputSerializer(sign_in.passkey).data,
            **s.token_json(sign_in.token),
        }
        return Response(body, status=201)


class AuthenticationOptionsView(APIView):
    """``POST /api/auth/passkey/login/options``; no body for a username-less sign-in."""

    authentication_classes: list[Any] = []

    @extend_schema(
        request=s.AuthenticationOptionsInputSerializer, responses={200: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request) -> Response:
        data = s.AuthenticationOptionsInputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        return Response(services.begin_authentication(username=data.validated_data["username"]))


class AuthenticationVerifyView(APIView):
    """``POST /api/auth/passkey/login/verify``; ``"session": true`` also opens a session."""

    authentication_classes: list[Any] = []

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = s.AuthenticationVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sign_in = services.finish_authentication(body=dict(request.data))
        return _sign_in_response(request, sign_in, open_session=data.validated_data["session"])


class PasskeyListView(APIView):
    """``GET /api/passkeys``: the signed-in user's passkeys."""

    permission_classes = [_SignedInOnly]

    @extend_schema(responses={200: s.PasskeyOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        passkeys = selectors.passkeys_of_user(user=request.user)
        return Response(s.PasskeyOutputSerializer(passkeys, many=True).data)


class PasskeyDetailView(APIView):
    """``PATCH /api/passkeys/{id}`` renames, ``DELETE`` removes; another user's id is 404."""

    permission_classes = [_SignedInOnly]

    @extend_schema(
        request=s.PasskeyRenameInputSerializer, responses={200: s.PasskeyOutputSerializer}
    )
    def patch(self, request: Request, passkey_id: str) -> Response:
        data = s.PasskeyRenameInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        passkey = services.rename_passkey(
            user=request.user, passkey_id=passkey_id, name=data.validated_data["name"]
        )
        return Response(s.PasskeyOutputSerializer(passkey).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, passkey_id: str) -> Response:
        services.remove_passkey(user=request.user, passkey_id=passkey_id)
        return Response(status=204)


class EmailStartView(APIView):
    """``POST /api/auth/email/start``: 202 whether or not the address is known."""

    authentication_classes: list[Any] = []

    @extend_schema(request=s.EmailStartInputSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = s.EmailStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email_services.start_email_sign_in(email=data.validated_data["email"])
        return Response(
            {"detail": "If the address can receive mail, a sign-in code and link are on the way."},
            status=202,
        )


class EmailVerifyView(APIView):
    """``POST /api/auth/email/verify``: ``{"email", "code"}`` or ``{"link_token"}``."""

    authentication_classes: list[Any] = []

    @extend_schema(request=s.EmailVerifyInputSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = s.EmailVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values.get("link_token"):
            sign_in = email_services.verify_email_link(link_token=values["link_token"])
        else:
            sign_in = email_services.verify_email_code(email=values["email"], code=values["code"])
        return _sign_in_response(request, sign_in, open_session=values["session"])

"""A test-only URL configuration: the real health routes and admin plus small views that
exercise the shared HTTP layer (JSON parsing, 405, public documents, logging) through the
full middleware stack. No app's own views are involved, so these tests do not depend on them.
"""

from __future__ import annotations

import logging

import structlog
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from authcore import health
from authcore.middleware.security_headers import mark_public_cacheable


class EchoView(APIView):
    """POST ``{"name"}`` -> 200 ``{"name"}``: a view expecting a JSON object."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=50)

    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"name": serializer.validated_data["name"]})


def public_document(request: HttpRequest) -> JsonResponse:
    response = JsonResponse({"keys": []})
    response["Cache-Control"] = "public, max-age=300"
    return mark_public_cacheable(response)  # type: ignore[return-value]


def varies_by_language(request: HttpRequest) -> JsonResponse:
    response = JsonResponse({"greeting": "hello"})
    response["Vary"] = "Accept-Language"
    return response


class LogSecretsView(APIView):
    """Logs what the redaction test hands it, through structlog and stdlib logging."""

    def post(self, request: Request) -> Response:
        data: dict[str, str] = dict(request.data)
        structlog.get_logger("tests.authcore").info(
            "signing_in",
            password=data["password"],
            api_key=data["api_key"],
            headers={"Authorization": f"Bearer {data['jwt']}", "Cookie": data["cookie"]},
            note=f"client sent x-api-key {data['api_key']} and token {data['jwt']}",
        )
        logging.getLogger("tests.authcore.stdlib").warning(
            "login failed for alice password=%s with Authorization: Bearer %s and Cookie: %s",
            data["password"],
            data["jwt"],
            data["cookie"],
        )
        logging.getLogger("tests.authcore.stdlib").info(
            "api key presented", extra={"api_key": data["api_key"], "client": "demo"}
        )
        return Response({"logged": True})


urlpatterns = [
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("metrics", health.metrics_view),
    path("admin/", admin.site.urls),
    path("api/echo", EchoView.as_view()),
    path("api/auth/echo", EchoView.as_view()),
    path("api/log", LogSecretsView.as_view()),
    path(".well-known/test-document.json", public_document),
    path("api/greeting", varies_by_language),
]

handler400 = "authcore.error_views.bad_request"
handler403 = "authcore.error_views.permission_denied"
handler404 = "authcore.error_views.not_found"
handler500 = "authcore.error_views.server_error"

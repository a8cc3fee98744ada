"""A protected view for the tokens tests (the real /api/me belongs to the clients app)."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class WhoAmI(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        user = request.user
        return Response(
            {
                "id": str(user.pk),
                "username": user.username,
                "email": user.email,  # type: ignore[union-attr]
                "display_name": user.display_name,  # type: ignore[union-attr]
                "is_active": user.is_active,
                "jti": request.auth.jti,  # type: ignore[union-attr]
            }
        )


# Only the tokens app's routes: these tests do not depend on other apps' URLs.
urlpatterns = [
    path("test/whoami", WhoAmI.as_view()),
    path("", include("tokens.urls")),
]

"""The real URL conf plus the front-end example served at /example/ from the same origin, as a
deployment serves it behind its reverse proxy (WebAuthn binds passkeys to the page's origin)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.urls import include, path
from django.views.static import serve

FRONTEND = Path(settings.BASE_DIR) / "examples" / "frontend"

urlpatterns = [
    path("example/<path:path>", serve, {"document_root": FRONTEND}),
    path("", include("authcore.urls")),
]

handler400 = "authcore.error_views.bad_request"
handler403 = "authcore.error_views.permission_denied"
handler404 = "authcore.error_views.not_found"
handler500 = "authcore.error_views.server_error"

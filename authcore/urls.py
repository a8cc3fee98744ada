"""URL configuration. Each app owns its routes in ``<app>/urls.py``."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from authcore import admin_guard, health, staff_login

# Django tries the patterns in order on every request: the probe and the public documents
# (JWKS, discovery: read by every verifier) come first, so they resolve in the fewest steps.
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", include("tokens.urls")),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics_view, name="metrics"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    # GET only: OPTIONS made its HTML renderer render DRF's metadata, a 500.
    path(
        "api/docs",
        SpectacularSwaggerView.as_view(url_name="schema", http_method_names=["get", "head"]),
        name="api-docs",
    ),
    # APPEND_SLASH for the admin's root (no CommonMiddleware; the admin redirects the rest).
    path("admin", RedirectView.as_view(url="/admin/", permanent=True)),
    path("admin/login/", staff_login.staff_login, name="staff-login"),  # before the admin's own
    path("admin/autocomplete/", admin_guard.no_autocomplete),
    path(
        "admin/r/<int:content_type_id>/<path:object_id>/",
        admin.site.admin_view(admin_guard.view_on_site),
        name="view_on_site",
    ),
    path("admin/", admin.site.urls),
    path("", include("clients.urls")),
    path("", include("passkeys.urls")),
    path("", include("sessions_app.urls")),
]

handler400 = "authcore.error_views.bad_request"
handler403 = "authcore.error_views.permission_denied"
handler404 = "authcore.error_views.not_found"
handler500 = "authcore.error_views.server_error"

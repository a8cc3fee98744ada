"""The tokens test routes plus the admin (for tests/tokens/test_admin.py)."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("tests.tokens.urls")),
]

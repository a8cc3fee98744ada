"""Authcore's URLs plus the bare floor view behind Authcore's full middleware stack."""

from django.urls import path

from authcore.urls import handler400, handler403, handler404, handler500, urlpatterns
from bench.floor_views import bare

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns = [path("bench/floor", bare), *urlpatterns]

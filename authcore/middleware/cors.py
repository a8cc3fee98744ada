"""django-cors-headers' middleware, with its work skipped for requests that are not CORS.

A request without an ``Origin`` header (server-to-server calls, probes, JWKS fetchers, every
same-origin GET) gets nothing from ``corsheaders.middleware.CorsMiddleware`` but ``Vary:
origin`` (every path but ``/admin/`` and ``/static/`` is CORS-enabled: ``CORS_URLS_REGEX``;
``Vary: origin`` on those two costs nothing and is harmless); building ``request.headers``
to find that out was a measurable share of a cheap request. Those requests get the same
``Vary`` directly; requests with an ``Origin`` and every ``OPTIONS`` (preflights) go through
the library unchanged.
"""

from __future__ import annotations

from typing import cast

from corsheaders.middleware import CorsMiddleware as LibraryCorsMiddleware
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers

from authcore.middleware.security_headers import checked_items, set_checked_headers

VARY_ORIGIN = checked_items({"Vary": "origin"})


class CorsMiddleware(LibraryCorsMiddleware):
    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if "HTTP_ORIGIN" in request.META or request.method == "OPTIONS" or self.async_mode:
            return super().__call__(request)  # type: ignore[return-value]
        response = cast(HttpResponse, self.get_response(request))  # sync: async_mode is off
        if response.has_header("Vary"):
            patch_vary_headers(response, ("origin",))
        else:  # the common case: nothing to merge with, a checked constant
            set_checked_headers(response, VARY_ORIGIN)
        return response

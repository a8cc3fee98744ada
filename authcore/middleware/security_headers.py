"""The contract's security headers, set on every response (errors included) by
``authcore.middleware.edge.EdgeMiddleware``."""

from __future__ import annotations

from django.http import HttpResponse

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-XSS-Protection": "1; mode=block",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "Permissions-Policy": (
        "geolocation=(), camera=(), microphone=(), payment=(), usb=(), "
        "interest-cohort=(), fullscreen=(self)"
    ),
}
NO_STORE_HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate, proxy-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}
# Views that serve public cacheable documents (JWKS, discovery) set this attribute.
PUBLIC_CACHEABLE_ATTR = "authcore_public_cacheable"


def mark_public_cacheable(response: HttpResponse) -> HttpResponse:
    """Exempt a public document (JWKS, OpenID configuration) from the no-store rule."""
    setattr(response, PUBLIC_CACHEABLE_ATTR, True)
    return response

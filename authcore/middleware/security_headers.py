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


def checked_items(headers: dict[str, str]) -> dict[str, tuple[str, str]]:
    """``headers`` validated once by Django (ASCII or latin-1, no newline), in the form
    ``set_checked_headers`` takes. For values that do not change between requests; raises
    ``BadHeaderError`` here, at import or first use, rather than on a request."""
    check = HttpResponse()
    for name, value in headers.items():
        check[name] = value
    return {name.lower(): (name, check[name]) for name in headers}


def set_checked_headers(response: HttpResponse, items: dict[str, tuple[str, str]]) -> None:
    """Set headers whose names and values are known safe (``checked_items``, or digits) as
    ``{lowercased name: (name, value)}``, straight into the header store of Django's
    ``ResponseHeaders`` (a dict keyed by the lowercased name): the public path re-validates
    both strings on every request. Anything else takes the public, validating path."""
    store = getattr(response.headers, "_store", None)
    if isinstance(store, dict):
        store.update(items)
    else:  # pragma: no cover - a response class with other headers storage
        for name, value in items.values():
            response[name] = value

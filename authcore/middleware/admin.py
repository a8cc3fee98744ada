"""Django's admin-only middlewares, and WhiteNoise, only on the paths that need them.

The API authenticates with its own DRF classes (Bearer tokens, the browser-session cookie with
its own CSRF check) and never reads ``request.session``, ``request.user`` outside DRF, or
Django messages; only the staff admin under ``/admin/`` does. Run for every request, Django's
``SessionMiddleware``, ``CsrfViewMiddleware``, ``AuthenticationMiddleware`` and
``MessageMiddleware`` cost every API call and probe a layer each, and ``MessageMiddleware``
builds a cookie storage with a ``Signer`` per request. This middleware builds the same four,
in the same order and the same way Django's handler does (each instance wrapping the next,
each wrapped by ``convert_exception_to_response``; "Writing your own middleware",
https://docs.djangoproject.com/en/5.2/topics/http/middleware/), and sends only ``/admin/``
through them. ``CsrfViewMiddleware`` checks in ``process_view``, which Django calls only for
middlewares listed in ``MIDDLEWARE``: this one's ``process_view`` hands admin requests to it,
so the admin keeps the full CSRF middleware semantics (cookie, Origin/Referer checks, the 403)
on top of the ``csrf_protect`` its views carry (https://docs.djangoproject.com/en/5.2/ref/csrf/).

WhiteNoise serves files only under ``STATIC_URL`` (no ``WHITENOISE_ROOT`` is configured), so
only those paths go through it. A file it serves is a cacheable public document (API.md: no
no-store headers there), so a browser keeps the admin's stylesheets and scripts for
``WHITENOISE_MAX_AGE`` (ten minutes) instead of fetching a dozen of them again on every
admin page, each counted against ``RATE_LIMIT_GLOBAL`` (at ``100/15m`` staff ran out after a
few pages).

Django's admin system checks look for the three middlewares by name in ``MIDDLEWARE``
(admin.E408, E409, E410); settings silence exactly those, since they run here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from whitenoise.middleware import WhiteNoiseFileResponse, WhiteNoiseMiddleware

from authcore.middleware.security_headers import mark_public_cacheable

ADMIN_PREFIX = "/admin/"


class AdminOnlyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Innermost first, as django.core.handlers.base.BaseHandler.load_middleware builds them.
        messages = MessageMiddleware(get_response)
        authentication = AuthenticationMiddleware(convert_exception_to_response(messages))
        self.csrf = CsrfViewMiddleware(convert_exception_to_response(authentication))
        self.admin = cast(
            Callable[[HttpRequest], HttpResponse],
            SessionMiddleware(convert_exception_to_response(self.csrf)),
        )
        self.static = WhiteNoiseMiddleware(get_response)
        root = getattr(settings, "WHITENOISE_ROOT", None)
        self.static_prefix = "/" if root else self.static.static_prefix

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(ADMIN_PREFIX):
            return self.admin(request)
        if path.startswith(self.static_prefix):
            response = self.static(request)
            if isinstance(response, WhiteNoiseFileResponse):  # a file, not Django's 404
                mark_public_cacheable(response)
            return response
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        if request.path_info.startswith(ADMIN_PREFIX):
            return self.csrf.process_view(request, view, args, kwargs)
        return None

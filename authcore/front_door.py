"""The front door: a WSGI layer before Django that gives constant answers itself.

The liveness probe and the public documents (JWKS, OpenID discovery) answer every caller the
same bytes from a per-process cache, yet Django's request cycle around them (building the
request, the request_started/finished signals and their database and cache bookkeeping, URL
resolution, four middleware layers and the view) cost more than the answer itself: ~60 us of
CPU per probe, against ~10 here. So ``authcore.wsgi`` serves them before Django, for the plain
case only:

- ``GET`` (``HEAD`` and everything else go to Django), no ``Origin`` header (CORS is
  ``django-cors-headers``' business), and a Host spelling the edge layer has already allowed
  (``authcore.middleware.edge.ALLOWED_HOST_SPELLINGS``: the first request with a new spelling,
  and every refused one, goes to Django, which checks it and answers 400 as before);
- on a path an app registered with ``register(url name, answer)``; the path comes from the URL
  configuration (``reverse``), so ``urls.py`` stays the one place routes are spelled, and the
  same view serves the request when it goes through Django.

The answer is the one Django's path gives (a test compares them header by header): the
registered function builds an ``Answer`` both paths share (``as_http_response`` wraps it for
the Django view), and this layer adds what the edge and CORS layers add there: the contract's
security headers (and the no-store headers unless the answer is a public document),
``Vary: origin``, ``X-Request-ID`` (the caller's, if it looks like one) and
``Content-Length``, and counts the request in the same metrics. It logs nothing, as those
layers log nothing for these requests. What Django's request cycle would also have done is not
needed here: the answers come from memory, touching neither a cache connection Django manages
nor, usually, the database. The exception is the JWKS's key set, which is re-read from the
database when Redis announces a new version (and at least every minute); if that raises (the
database is down), the request goes to Django after all, whose path answers it with its error
handling: the key set still in memory (a 200), or a 503 JSON error, never a bare 500.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse
from django.urls import NoReverseMatch, get_script_prefix, reverse

from authcore.middleware.cors import VARY_ORIGIN
from authcore.middleware.edge import (
    ALLOWED_HOST_SPELLINGS,
    contract_items,
    count_request,
    has_no_body,
    request_id_for,
)
from authcore.middleware.security_headers import mark_public_cacheable, set_checked_headers
from authcore.store import warn_if_per_process

StartResponse = Callable[..., Any]
WSGIApplication = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class Answer:
    """A response both paths give: status, body and headers as ``checked_items`` makes them."""

    status: int
    body: bytes
    headers: dict[str, tuple[str, str]] = field(default_factory=dict)
    public: bool = False  # a public document: no no-store headers (mark_public_cacheable)


# The If-None-Match header's value ("" when absent) -> the answer.
Answerer = Callable[[str], Answer]

_registered: dict[str, Answerer] = {}


def register(url_name: str, answer: Answerer) -> None:
    """Serve ``GET`` on the route named ``url_name`` with ``answer`` (from ``AppConfig.ready``)."""
    _registered[url_name] = answer


def as_http_response(answer: Answer) -> HttpResponse:
    """The answer as Django's path serves it (the edge and CORS layers add the rest)."""
    response = HttpResponse(answer.body, status=answer.status)
    if "content-type" not in answer.headers:  # a 304: no representation metadata
        del response["Content-Type"]
    set_checked_headers(response, answer.headers)
    return mark_public_cacheable(response) if answer.public else response


class FrontDoor:
    """Wraps Django's WSGI application (module doc)."""

    def __init__(self, application: WSGIApplication) -> None:
        self.application = application
        self._routes: dict[str, Answerer] | None = None
        self._first_call = True

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if self._first_call:  # what only the server's environ tells (the WSGI spec's flags)
            self._first_call = False
            warn_if_per_process(bool(environ.get("wsgi.multiprocess")))
        if environ.get("REQUEST_METHOD") == "GET" and "HTTP_ORIGIN" not in environ:
            routes = self._routes if self._routes is not None else self._resolve_routes()
            answer = routes.get(environ.get("PATH_INFO", ""))
            if answer is not None and ALLOWED_HOST_SPELLINGS.known(environ):
                started = time.perf_counter()
                try:
                    built = answer(environ.get("HTTP_IF_NONE_MATCH", ""))
                except Exception:  # the database, say: Django's path answers (module doc)
                    return self.application(environ, start_response)
                return self._serve(built, started, environ, start_response)
        return self.application(environ, start_response)

    def _serve(
        self,
        answer: Answer,
        started: float,
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        headers = [
            *answer.headers.values(),
            *contract_items(public=answer.public).values(),
            *VARY_ORIGIN.values(),
            ("X-Request-ID", request_id_for(environ)),
        ]
        if not has_no_body(answer.status):
            headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {HTTPStatus(answer.status).phrase}", headers)
        count_request("GET", answer.status, time.perf_counter() - started)
        return [answer.body]

    def _resolve_routes(self) -> dict[str, Answerer]:
        """Registered URL names to paths as ``PATH_INFO`` spells them (no script prefix)."""
        prefix = get_script_prefix()
        routes = {}
        for name, answer in _registered.items():
            try:
                url = reverse(name)
            except NoReverseMatch:  # not routed in this configuration: Django answers 404
                continue
            routes["/" + url.removeprefix(prefix)] = answer
        self._routes = routes
        return routes

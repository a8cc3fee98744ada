"""Health probes and the metrics endpoint (exempt from rate limits)."""

from __future__ import annotations

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse

from authcore import metrics
from authcore.front_door import Answer, as_http_response
from authcore.middleware.security_headers import checked_items
from authcore.store import shared_store

# A constant answer: no JSON encoding per probe; served by the front door (authcore.front_door).
_ALIVE = Answer(200, b'{"status":"ok"}', checked_items({"Content-Type": "application/json"}))


def alive(if_none_match: str) -> Answer:
    """The process is alive."""
    return _ALIVE


def healthz(request: HttpRequest) -> HttpResponse:
    return as_http_response(_ALIVE)


def readyz(request: HttpRequest) -> JsonResponse:
    """Database and Redis reachable, or which fallback is in use. Non-200 only without a DB."""
    body: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        body["database"] = "ok"
    except DatabaseError:
        body["database"] = "unavailable"
    store = shared_store()
    if not store.configured:
        body["redis"] = "not_configured"
        body["fallback"] = "memory"
    elif store.ping():
        body["redis"] = "ok"
    else:
        body["redis"] = "unavailable"
        body["fallback"] = "memory"
    status = 200 if body["database"] == "ok" else 503
    body["status"] = "ok" if status == 200 else "unavailable"
    return JsonResponse(body, status=status)


def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics.render(), content_type="text/plain; version=0.0.4; charset=utf-8")

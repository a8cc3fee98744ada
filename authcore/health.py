"""Health probes and the metrics endpoint (exempt from rate limits)."""

from __future__ import annotations

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse

from authcore import metrics
from authcore.store import shared_store

_ALIVE = b'{"status":"ok"}'


def healthz(request: HttpRequest) -> HttpResponse:
    """The process is alive (a constant body: no JSON encoding per probe)."""
    return HttpResponse(_ALIVE, content_type="application/json")


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

"""Request count and latency for Prometheus."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from authcore.metrics import HTTP_LATENCY, HTTP_REQUESTS

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in _METHODS else "OTHER"
        HTTP_REQUESTS.labels(method=method, status=str(response.status_code)).inc()
        HTTP_LATENCY.labels(method=method).observe(time.perf_counter() - started)
        return response

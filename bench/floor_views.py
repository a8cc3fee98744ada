"""The bare floor view, importable without the floor project's settings."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse


def bare(request: HttpRequest) -> JsonResponse:
    """The same body as ``bench.floor.views.bare``: the price of Authcore's stack alone."""
    return JsonResponse({"status": "ok"})

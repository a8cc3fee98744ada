"""Content negotiation: JSON views answer JSON without parsing ``Accept``.

Every API view renders with one renderer, DRF's ``JSONRenderer``. DRF's
``DefaultContentNegotiation`` still parses the ``Accept`` header and matches media types on
every request (about 30 µs here, a tenth of a protected request's Python time), to end up
choosing that one renderer or answering 406. Like most JSON APIs (Auth0's, Keycloak's), a
view with a single renderer answers in it whatever ``Accept`` says; views offering several
renderers (``/api/schema``: JSON or YAML) and ``?format=`` requests negotiate as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class SingleRendererNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> Any:
        offered = renderers if isinstance(renderers, list) else list(renderers)
        if (
            len(offered) == 1
            and not format_suffix
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return offered[0], offered[0].media_type
        return super().select_renderer(request, offered, format_suffix)

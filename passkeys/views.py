"""The demo page at ``GET /`` (templates/demo.html): plain HTML, one script, no build step."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from passkeys import app_settings

# The page loads only its own script and stylesheet: no inline code, no third party.
DEMO_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@require_GET
def demo_page(request: HttpRequest) -> HttpResponse:
    context = {"rp_name": app_settings.RP_NAME, "rp_id": app_settings.RP_ID}
    response = render(request, "demo.html", context)
    response["Content-Security-Policy"] = DEMO_PAGE_CSP
    response["Referrer-Policy"] = "no-referrer"  # the sign-in link's token stays on this page
    return response

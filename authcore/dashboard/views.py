"""The security dashboard page: counts and charts from the audit trail, the signing-key
timeline, flagged passkeys, Redis/fallback state and the contract's counters."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from authcore import metrics
from authcore.dashboard import chart
from authcore.dashboard.events import WINDOWS, event_categories, recent_key_events
from authcore.dashboard.key_timeline import key_timeline
from authcore.store import shared_store
from passkeys.models import Passkey

FLAGGED_SHOWN = 20
CONTRACT_METRICS = (
    "authcore_tokens_issued",
    "authcore_token_revocations",
    "authcore_auth_failures",
    "authcore_rate_limit_hits",
    "authcore_key_rotations",
    "authcore_signing_keys",
)


def store_state() -> dict[str, str]:
    """Where rate limits, revocations, challenges and sessions live right now."""
    store = shared_store()
    if not store.configured:
        return {
            "level": "warning",
            "text": "Redis is not configured: in-memory store, per process "
            "(fine for development only).",
        }
    if store.ping():
        return {"level": "success", "text": "Redis reachable: shared state across instances."}
    return {
        "level": "error",
        "text": "Redis unreachable: the in-memory fallback is in use. Rate limits, challenges "
        "and the revocation cache are per process until Redis is back.",
    }


def counter_samples() -> list[tuple[str, str, float]]:
    """(metric, labels, value) of the contract's metrics, summed over this server's workers."""
    rows: list[tuple[str, str, float]] = []
    for family in text_string_to_metric_families(metrics.render().decode()):
        if family.name not in CONTRACT_METRICS:
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            labels = ", ".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "pid")
            rows.append((sample.name, labels, sample.value))
    return sorted(rows)


def dashboard_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("authcore.view_auditevent"):
        raise PermissionDenied
    window = WINDOWS.get(str(request.GET.get("window", "24h")), WINDOWS["24h"])
    now = timezone.now()
    labels, categories = event_categories(window, now=now)
    charts = [
        {
            "category": category,
            "svg": chart.stacked_bars(
                title=f"{category.title}, last {window.name}",
                labels=labels,
                series=category.series,
            ),
        }
        for category in categories
    ]
    flagged = Passkey.objects.filter(flagged=True).select_related("user").order_by("-flagged_at")
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Security dashboard",
        "window": window,
        "windows": list(WINDOWS),
        "charts": charts,
        "now": now,
        "key_steps": key_timeline(now=now),
        "key_events": recent_key_events(),
        "flagged_count": flagged.count(),
        "flagged": list(flagged[:FLAGGED_SHOWN]),
        "store": store_state(),
        "counters": counter_samples(),
    }
    return TemplateResponse(request, "admin/authcore/dashboard.html", context)

"""The audit trail: append-only ``AuditEvent`` rows written by the services themselves.

    record_event("token.revoked", actor=user, target=f"token:{jti}", detail={"reason": "api"})

The request id and client IP come from the request context bound by ``EdgeMiddleware``
(``authcore.logging.request_context``), so services need not pass the request around.
``detail`` must never hold a secret: it is also redacted like a log event before it is stored.
"""

from __future__ import annotations

from typing import Any

import structlog

from authcore.logging import redact_secrets, request_context

logger = structlog.get_logger("authcore.audit")


def _actor(actor: Any) -> tuple[str, str]:
    """(kind, id) of whoever acted: a user, a client, staff, or the system."""
    if actor is None:
        return "system", ""
    if isinstance(actor, tuple):
        return str(actor[0]), str(actor[1])
    if getattr(actor, "is_staff", False):
        return "staff", str(actor.pk)
    model = getattr(getattr(actor, "_meta", None), "model_name", "")
    if model == "client":
        return "client", str(actor.pk)
    return "user", str(getattr(actor, "pk", actor))


def record_event(
    action: str,
    *,
    actor: Any = None,
    target: str = "",
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit event and log it.

    Args:
        action: dotted verb, e.g. ``signin.passkey``, ``token.revoked``, ``key.rotated``.
        actor: a User or Client instance, ``("kind", "id")``, or None for the system.
        target: what was acted on, ``"kind:id"`` (never a secret).
        outcome: ``success`` or ``failure`` (or a short reason).
        detail: small JSON with no secret.
    """
    from authcore.models import AuditEvent

    context = request_context()
    actor_kind, actor_id = _actor(actor)
    clean = redact_secrets(None, "", dict(detail or {}))
    AuditEvent.objects.create(
        action=action,
        actor_kind=actor_kind,
        actor_id=actor_id,
        target=target[:255],
        outcome=outcome[:32],
        client_ip=context.get("client_ip") or None,
        request_id=str(context.get("request_id", ""))[:64],
        detail=clean,
    )
    logger.info(
        "audit",
        action=action,
        actor_kind=actor_kind,
        actor_id=actor_id,
        target=target,
        outcome=outcome,
    )

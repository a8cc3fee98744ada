"""Path items for the plain-Django endpoints drf-spectacular does not see.

The public documents (``tokens.api.views``: RFC 7517 JWKS, OpenID Connect Discovery 1.0 §4)
and the operators' probes (``authcore.health``) are plain Django views for speed; their shapes
are written here by hand and checked against real answers by ``tests/docs``.
"""

from __future__ import annotations

from typing import Any

_CACHE_HEADERS = {
    "Cache-Control": {
        "schema": {"type": "string"},
        "description": "`public, max-age=N`: the document is cacheable (no no-store).",
    },
    "ETag": {"schema": {"type": "string"}, "description": "Send back as If-None-Match."},
}

JWK = {
    "type": "object",
    "description": "An RSA public key (RFC 7517 §4, RFC 7518 §6.3).",
    "properties": {
        "kty": {"type": "string", "enum": ["RSA"]},
        "kid": {"type": "string"},
        "use": {"type": "string", "enum": ["sig"]},
        "alg": {"type": "string", "enum": ["RS256"]},
        "n": {"type": "string", "description": "modulus, base64url"},
        "e": {"type": "string", "description": "exponent, base64url"},
    },
    "required": ["kty", "kid", "use", "alg", "n", "e"],
}

JWKS = {
    "type": "object",
    "properties": {"keys": {"type": "array", "items": {"$ref": "#/components/schemas/Jwk"}}},
    "required": ["keys"],
}

DISCOVERY = {
    "type": "object",
    "properties": {
        "issuer": {"type": "string", "description": "API_BASE_URL: the `iss` of every token"},
        "jwks_uri": {"type": "string"},
        "id_token_signing_alg_values_supported": {"type": "array", "items": {"type": "string"}},
        "subject_types_supported": {"type": "array", "items": {"type": "string"}},
        "claims_supported": {"type": "array", "items": {"type": "string"}},
    },
    "required": [
        "issuer",
        "jwks_uri",
        "id_token_signing_alg_values_supported",
        "subject_types_supported",
        "claims_supported",
    ],
    "additionalProperties": False,
}

READINESS = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "database": {"type": "string", "enum": ["ok", "unavailable"]},
        "redis": {"type": "string", "enum": ["ok", "unavailable", "not_configured"]},
        "fallback": {"type": "string", "enum": ["memory"]},
    },
    "required": ["status", "database", "redis"],
}


def _document(summary: str, schema_ref: str, description: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": summary.lower().replace(" ", "_"),
            "summary": summary,
            "description": description,
            "tags": ["keys"],
            "security": [{}],
            "responses": {
                "200": {
                    "description": "The document.",
                    "headers": _CACHE_HEADERS,
                    "content": {"application/json": {"schema": {"$ref": schema_ref}}},
                },
                "304": {"description": "Not modified (If-None-Match matched the ETag)."},
            },
        }
    }


def _probe(operation_id: str, summary: str, responses: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["operations"],
            "security": [{}],
            "responses": responses,
        }
    }


def add_documents(schema: dict[str, Any]) -> None:
    """Adds the JWKS, discovery and health paths and their components to ``schema``."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update({"Jwk": JWK, "Jwks": JWKS, "Discovery": DISCOVERY, "Readiness": READINESS})
    paths = schema.setdefault("paths", {})
    paths["/.well-known/jwks.json"] = _document(
        "JWKS",
        "#/components/schemas/Jwks",
        "Every public key that may verify an unexpired token: the next key (published "
        "JWT_KEY_PUBLISH_AHEAD_MINUTES before it signs), the current one and retiring ones. "
        "Not rate limited.",
    )
    paths["/.well-known/openid-configuration"] = _document(
        "Discovery",
        "#/components/schemas/Discovery",
        "OpenID Connect Discovery: issuer, jwks_uri, signing algorithm, subject types and "
        "claims. No introspection or revocation endpoint (ours are not RFC 7662/7009).",
    )
    json_ok = {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}
    paths["/healthz"] = _probe(
        "healthz",
        "The process is alive (liveness)",
        {
            "200": {
                "description": "Alive.",
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"status": {"type": "string"}}}
                    }
                },
            }
        },
    )
    paths["/readyz"] = _probe(
        "readyz",
        "Database and Redis reachable, or which fallback is in use (readiness)",
        {
            "200": {"description": "Ready (possibly on the memory fallback).", "content": json_ok},
            "503": {"description": "The database is unreachable.", "content": json_ok},
        },
    )
    paths["/metrics"] = _probe(
        "metrics",
        "Prometheus metrics of this server (all workers)",
        {
            "200": {
                "description": "Prometheus text exposition format.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )

"""drf-spectacular's generator plus what Authcore adds (see the package docstring).

Named by ``SPECTACULAR_SETTINGS["DEFAULT_GENERATOR_CLASS"]``, so ``/api/schema``, ``/api/docs``
and ``manage.py spectacular`` all use it; importing it registers the extensions.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import generators

from authcore.openapi import security, views  # noqa: F401 - registers the extensions
from authcore.openapi.documents import add_documents
from authcore.openapi.errors import add_error_responses

TAGS = [
    ("client service", "Backends: clients, API keys, users, token exchange and revocation."),
    ("users", "The signed-in user."),
    ("passkeys", "WebAuthn registration, sign-in and passkey management."),
    ("email fallback", "Sign-in by mailed code or link for browsers without WebAuthn."),
    ("browser sessions", "OpenID Connect sign-in for web apps (BFF), cookies and CSRF."),
    ("keys", "Public documents for token verifiers (Privy, jose, PyJWT)."),
    ("operations", "Probes and metrics for operators."),
]


class SchemaGenerator(generators.SchemaGenerator):
    def get_schema(self, request: Any = None, public: bool = False) -> dict[str, Any]:
        schema: dict[str, Any] = super().get_schema(request=request, public=public)
        add_documents(schema)
        add_error_responses(schema)
        schema["tags"] = [{"name": name, "description": text} for name, text in TAGS]
        schema["paths"] = dict(sorted(schema["paths"].items()))
        return schema

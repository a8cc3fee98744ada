"""OpenAPI descriptions of the client service's authentication schemes (drf-spectacular).

Importing this module registers them; ``clients.api.views`` does.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "clients.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "header", "name": "x-api-key"}


class ApiKeyOrFallbackScheme(OpenApiAuthenticationExtension):
    target_class = "clients.authentication.DeferredApiKeyAuthentication"
    name = "ApiKeyOrServerFallback"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "x-api-key",
            "description": "x-api-key, else the server's CLIENT_API_KEY when the header is absent",
        }


class MasterScheme(OpenApiAuthenticationExtension):
    target_class = "clients.authentication.MasterBasicAuthentication"
    name = "MasterBasic"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "basic",
            "description": "MASTER_USERNAME / MASTER_PASSWORD",
        }

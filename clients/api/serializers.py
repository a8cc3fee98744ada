"""Request and response shapes of the client service (API.md "Client service")."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: numbers and booleans are not quietly turned into text."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# Long enough for any real value, short enough that nobody hashes megabytes for us.
MAX_SECRET_LENGTH = 256
MAX_TOKEN_LENGTH = 8192


class ClientCreateInput(serializers.Serializer):
    name = StrictCharField(max_length=200)


class ClientCreateOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    api_key = serializers.CharField()
    created_at = serializers.DateTimeField()


class ApiKeyOutput(serializers.Serializer):
    api_key = serializers.CharField()


class UserCreateInput(serializers.Serializer):
    identifier = StrictCharField(max_length=255, trim_whitespace=False)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)


class UserCreateOutput(serializers.Serializer):
    id = serializers.CharField()
    identifier = serializers.CharField()
    secret = serializers.CharField()


IDENTIFIER_MAX_LENGTH = 255


class TokenCreateInput(serializers.Serializer):
    identifier = StrictCharField(max_length=IDENTIFIER_MAX_LENGTH, trim_whitespace=False)
    secret = StrictCharField(max_length=MAX_SECRET_LENGTH, trim_whitespace=False)
    # Upper bound (TOKEN_MAX_TTL) is the service's, with its own code: expires_in_too_large.
    expires_in = serializers.IntegerField(required=False, min_value=1)


def plain_token_create_input(data: object) -> dict[str, Any] | None:
    """``TokenCreateInput``'s validated data for a plain well-formed body, without building
    the serializer; None for anything else, which then goes through ``TokenCreateInput`` for
    its exact errors.

    ``POST /api/tokens`` is the client service's hot path, and a DRF serializer deep-copies
    its declared fields on every instance (~140 µs, half an RS256 signature). This accepts a
    strict subset of what the serializer accepts, with the same result: non-empty ASCII
    strings (so no surrogates) without NUL within the length limits, and an ``expires_in``
    that is a JSON integer ≥ 1. Generated bodies prove the subset in
    tests/clients/test_token_create_input.py.
    """
    if type(data) is not dict:
        return None
    identifier, secret = data.get("identifier"), data.get("secret")
    if not (
        _plain_text(identifier, IDENTIFIER_MAX_LENGTH) and _plain_text(secret, MAX_SECRET_LENGTH)
    ):
        return None
    validated: dict[str, Any] = {"identifier": identifier, "secret": secret}
    if "expires_in" in data:
        expires_in = data["expires_in"]
        if type(expires_in) is not int or expires_in < 1:
            return None
        validated["expires_in"] = expires_in
    return validated


def _plain_text(value: object, max_length: int) -> bool:
    return (
        type(value) is str
        and 0 < len(value) <= max_length
        and value.isascii()
        and "\x00" not in value
    )


class TokenCreateOutput(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    expires_in = serializers.IntegerField()
    jti = serializers.CharField()


class TokenInput(serializers.Serializer):
    token = StrictCharField(max_length=MAX_TOKEN_LENGTH, trim_whitespace=False)


class TokenRevokeInput(serializers.Serializer):
    """RFC 7009 §2.1: the token itself, or (Authcore extension) its ``jti``."""

    token = StrictCharField(max_length=MAX_TOKEN_LENGTH, required=False, trim_whitespace=False)
    jti = StrictCharField(max_length=255, required=False)
    token_type_hint = StrictCharField(max_length=64, required=False)  # RFC 7009: ignored

    def validate(self, attrs: dict[str, str]) -> dict[str, str]:
        if bool(attrs.get("token")) == bool(attrs.get("jti")):
            raise serializers.ValidationError("Send exactly one of token or jti.")
        return attrs


class MeOutput(serializers.Serializer):
    id = serializers.CharField()
    identifier = serializers.CharField()
    username = serializers.CharField()
    email = serializers.CharField(allow_blank=True)
    display_name = serializers.CharField(allow_blank=True)
    client_id = serializers.CharField(allow_null=True)

"""Request and response shapes of the client service (API.md "Client service")."""

from __future__ import annotations

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


class TokenCreateInput(serializers.Serializer):
    identifier = StrictCharField(max_length=255, trim_whitespace=False)
    secret = StrictCharField(max_length=MAX_SECRET_LENGTH, trim_whitespace=False)
    # Upper bound (TOKEN_MAX_TTL) is the service's, with its own code: expires_in_too_large.
    expires_in = serializers.IntegerField(required=False, min_value=1)


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

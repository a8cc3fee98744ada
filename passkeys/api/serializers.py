"""Request and response shapes of the passkeys API (API.md "Passkeys (WebAuthn)")."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from rest_framework import serializers
from webauthn.helpers import base64url_to_bytes

from passkeys.models import Passkey


def user_json(user: Any) -> dict[str, Any]:
    """API.md: ``user`` is ``{"id", "username", "display_name", "email"}``; id is the ``sub``."""
    return {
        "id": str(user.pk),
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
    }


def token_json(token: Any) -> dict[str, Any]:
    return {
        "access_token": token.raw,
        "token_type": token.token_type,
        "expires_in": token.expires_in,
    }


class PasskeyOutputSerializer(serializers.ModelSerializer[Passkey]):
    """A passkey: ``{"id", "credential_id", "name", "created_at", "last_used_at",
    "transports", "device_type", "backed_up", "flagged"}``."""

    class Meta:
        model = Passkey
        fields = (
            "id",
            "credential_id",
            "name",
            "created_at",
            "last_used_at",
            "transports",
            "device_type",
            "backed_up",
            "flagged",
        )
        read_only_fields = fields


class RegistrationOptionsInputSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(
        max_length=150, required=False, default="", validators=[UnicodeUsernameValidator()]
    )
    display_name = serializers.CharField(
        max_length=150, required=False, default="", allow_blank=True
    )

    def validate_username(self, value: str) -> str:
        return value.strip()


class AuthenticationOptionsInputSerializer(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)


class CredentialInputSerializer(serializers.Serializer[Any]):
    """The shape every ``credential.toJSON()`` shares; py_webauthn parses the rest."""

    id = serializers.CharField(max_length=1400)
    rawId = serializers.CharField(max_length=1400)
    type = serializers.ChoiceField(choices=["public-key"])
    response = serializers.DictField()

    def validate_rawId(self, value: str) -> str:
        try:
            base64url_to_bytes(value)
        except Exception as error:
            raise serializers.ValidationError("must be base64url") from error
        return value


class RegistrationVerifyInputSerializer(CredentialInputSerializer):
    name = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)


class AuthenticationVerifyInputSerializer(CredentialInputSerializer):
    session = serializers.BooleanField(required=False, default=False)


class PasskeyRenameInputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("may not be blank")
        return value


class EmailStartInputSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254)


class EmailVerifyInputSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=254, required=False)
    code = serializers.CharField(max_length=32, required=False)
    link_token = serializers.CharField(max_length=200, required=False)
    session = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("link_token"):
            return attrs
        if not attrs.get("email") or not attrs.get("code"):
            raise serializers.ValidationError("send either email and code, or link_token")
        return attrs

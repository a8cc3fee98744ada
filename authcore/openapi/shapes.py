"""Serializers that only describe bodies for the OpenAPI document (never used to parse).

They mirror what the views return (API.md shapes); ``tests/docs/test_openapi_schema.py`` checks
real answers against them, so a view that changes its answer fails there.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from passkeys.api.serializers import PasskeyOutputSerializer


class SignedInUser(serializers.Serializer[Any]):
    """API.md: ``user`` is ``{"id", "username", "display_name", "email"}``; ``id`` is the sub."""

    id = serializers.CharField(help_text="The user's ID: the `sub` of their tokens.")
    username = serializers.CharField()
    display_name = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)


class AccessToken(serializers.Serializer[Any]):
    access_token = serializers.CharField(help_text="RS256 JWT; verify against the JWKS.")
    token_type = serializers.ChoiceField(choices=["Bearer"])
    expires_in = serializers.IntegerField(help_text="Seconds.")


class SignIn(AccessToken):
    user = SignedInUser()


class Registration(SignIn):
    credential = PasskeyOutputSerializer()


class EmailStarted(serializers.Serializer[Any]):
    detail = serializers.CharField()


# --- WebAuthn (W3C WebAuthn L3 §5.4, §5.5 and their JSON forms) -----------------------------


class RelyingParty(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="API_RP_ID")
    name = serializers.CharField()


class WebAuthnUser(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="base64url user handle")
    name = serializers.CharField()
    displayName = serializers.CharField()


class CredentialParameter(serializers.Serializer[Any]):
    type = serializers.ChoiceField(choices=["public-key"])
    alg = serializers.IntegerField(help_text="COSE algorithm: -7 ES256, -8 EdDSA, -257 RS256")


class CredentialDescriptor(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="base64url credential ID")
    type = serializers.ChoiceField(choices=["public-key"])
    transports = serializers.ListField(child=serializers.CharField(), required=False)


class AuthenticatorSelection(serializers.Serializer[Any]):
    residentKey = serializers.CharField()
    requireResidentKey = serializers.BooleanField()
    userVerification = serializers.CharField()
    authenticatorAttachment = serializers.CharField(required=False)


class PublicKeyCredentialCreationOptionsJSON(serializers.Serializer[Any]):
    """``PublicKeyCredentialCreationOptionsJSON``: pass it to
    ``PublicKeyCredential.parseCreationOptionsFromJSON``."""

    rp = RelyingParty()
    user = WebAuthnUser()
    challenge = serializers.CharField(help_text="base64url; single use, 5 minutes")
    pubKeyCredParams = CredentialParameter(many=True)
    timeout = serializers.IntegerField(required=False)
    excludeCredentials = CredentialDescriptor(many=True)
    authenticatorSelection = AuthenticatorSelection()
    attestation = serializers.CharField()


class PublicKeyCredentialRequestOptionsJSON(serializers.Serializer[Any]):
    """``PublicKeyCredentialRequestOptionsJSON``: pass it to
    ``PublicKeyCredential.parseRequestOptionsFromJSON``."""

    challenge = serializers.CharField(help_text="base64url; single use, 5 minutes")
    timeout = serializers.IntegerField(required=False)
    rpId = serializers.CharField()
    allowCredentials = CredentialDescriptor(many=True)
    userVerification = serializers.CharField()


class AttestationResponse(serializers.Serializer[Any]):
    clientDataJSON = serializers.CharField()
    attestationObject = serializers.CharField()
    transports = serializers.ListField(child=serializers.CharField(), required=False)


class AssertionResponse(serializers.Serializer[Any]):
    clientDataJSON = serializers.CharField()
    authenticatorData = serializers.CharField()
    signature = serializers.CharField()
    userHandle = serializers.CharField(required=False, allow_null=True)


class RegistrationResponseJSON(serializers.Serializer[Any]):
    """``RegistrationResponseJSON`` (``credential.toJSON()``), plus an optional passkey name."""

    id = serializers.CharField()
    rawId = serializers.CharField()
    type = serializers.ChoiceField(choices=["public-key"])
    response = AttestationResponse()
    authenticatorAttachment = serializers.CharField(required=False)
    clientExtensionResults = serializers.DictField(required=False)
    name = serializers.CharField(required=False, max_length=100, help_text="Passkey name")


class AuthenticationResponseJSON(serializers.Serializer[Any]):
    """``AuthenticationResponseJSON`` (``credential.toJSON()``), plus ``session``."""

    id = serializers.CharField()
    rawId = serializers.CharField()
    type = serializers.ChoiceField(choices=["public-key"])
    response = AssertionResponse()
    authenticatorAttachment = serializers.CharField(required=False)
    clientExtensionResults = serializers.DictField(required=False)
    session = serializers.BooleanField(
        required=False, help_text="true: also open a browser session (user_session_id cookie)"
    )


# --- Browser sessions ----------------------------------------------------------------------


class SessionMe(serializers.Serializer[Any]):
    authenticated = serializers.BooleanField()
    user = SignedInUser()
    csrf_token = serializers.CharField(help_text="Send as X-CSRF-Token on POST/PATCH/DELETE.")
    expires_at = serializers.DateTimeField()


class CsrfRefresh(serializers.Serializer[Any]):
    csrf_token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class BrowserSession(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="Storage key (never the cookie value).")
    method = serializers.CharField(help_text="How it was opened: passkey, email, oidc:NAME")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    client_ip = serializers.CharField(allow_null=True)
    user_agent = serializers.CharField(allow_blank=True)
    current = serializers.BooleanField()

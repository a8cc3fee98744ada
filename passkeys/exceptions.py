"""Typed errors of the passkeys app, each with a stable ``code`` (API.md "Passkeys").

Every rejected ceremony is a 400; its code says which step of WebAuthn L3 §7.1 (registration)
or §7.2 (authentication) failed.
"""

from __future__ import annotations

from authcore.exceptions import AuthcoreError, Conflict, NotFound, ValidationFailed


class CeremonyRejected(AuthcoreError):
    status_code = 400
    code = "ceremony_rejected"
    detail = "The passkey ceremony was rejected."


class ChallengeInvalid(CeremonyRejected):
    code = "challenge_invalid"
    detail = (
        "The challenge is unknown, expired, already used, or was issued for another ceremony "
        "or user. Start again."
    )


class OriginMismatch(CeremonyRejected):
    code = "origin_mismatch"
    detail = "The passkey was used on an origin this service does not accept."


class RpIdMismatch(CeremonyRejected):
    code = "rp_id_mismatch"
    detail = "The passkey belongs to another relying party (RP ID hash mismatch)."


class SignatureInvalid(CeremonyRejected):
    code = "signature_invalid"
    detail = "The authenticator's signature or attestation could not be verified."


class SignCountRegressed(CeremonyRejected):
    code = "sign_count_regressed"
    detail = (
        "This passkey reported an older signature counter; it may have been cloned and has "
        "been flagged."
    )


class CredentialUnknown(CeremonyRejected):
    code = "credential_unknown"
    detail = "This passkey is not registered here."


class UserVerificationRequired(CeremonyRejected):
    code = "user_verification_required"
    detail = "The authenticator did not verify the user (PIN or biometrics are required)."


class CredentialAlreadyRegistered(CeremonyRejected):
    code = "credential_exists"
    detail = "This passkey is already registered."


class CredentialMalformed(ValidationFailed):
    code = "invalid_request"
    detail = "The credential is not a valid WebAuthn response JSON."


class UsernameTaken(Conflict):
    code = "username_taken"
    detail = "This username is taken. Sign in to add a passkey to it."


class PasskeyNotFound(NotFound):
    detail = "No such passkey."


class LastSignInMethod(Conflict):
    code = "last_sign_in_method"
    detail = (
        "This is your last passkey and you have no verified email address: removing it would "
        "lock you out."
    )


class EmailCodeRejected(AuthcoreError):
    status_code = 400
    code = "code_invalid"
    detail = "The code or link is not valid."


class EmailCodeInvalid(EmailCodeRejected):
    code = "code_invalid"
    # One text for every wrong code, whatever the address's code is (used, void, none sent):
    # it also tells whoever mistyped five times what to do, without saying which case it is.
    detail = "The code or sign-in link is wrong. After 5 wrong codes, ask for a new one."


class EmailCodeExpired(EmailCodeRejected):
    code = "code_expired"
    detail = "The code or sign-in link has expired. Ask for a new one."


class EmailCodeUsed(EmailCodeRejected):
    code = "code_used"
    detail = "The code or sign-in link was already used. Ask for a new one."


class EmailCodeVoided(EmailCodeRejected):
    code = "code_voided"
    detail = "Too many wrong codes, or a newer code was sent: ask for a new one."

"""Token calls of the client service: issue, introspect, revoke (API.md "Client service").

Everything token-shaped goes through ``tokens.services`` and ``tokens.selectors``; this module
only adds the client service's rules: a client sees and revokes only tokens carrying its own
``client_id``, a bearer only tokens of its own user.
"""

from __future__ import annotations

from typing import Any

from authcore.exceptions import AuthcoreError
from clients import app_settings
from clients.exceptions import ExpiresInTooLarge, TokenNotFound
from clients.models import Client
from clients.services import (
    authenticate_api_key,
    authenticate_client_and_user,
    authenticate_client_user,
)
from tokens.selectors import token_by_jti
from tokens.services import (
    IssuedToken,
    issue_token,
    jti_of_signed_token,
    revoke_token,
    sign_pending,
    verify_token,
)


def issue_client_token(
    *, client: Client, identifier: str, secret: str, expires_in: int | None = None
) -> IssuedToken:
    """Exchange a client user's identifier and secret for an access token.

    The token lives ``expires_in`` seconds (default ``TOKEN_DEFAULT_TTL``) and carries the
    client's id as ``client_id``.

    Raises:
        ExpiresInTooLarge: 400, ``expires_in`` above ``TOKEN_MAX_TTL`` (checked before the
            credentials, so a bad body never counts as a failed sign-in).
        CredentialLocked: 429; InvalidUserCredentials: 401 (see ``authenticate_client_user``).
    """
    ttl = app_settings.TOKEN_DEFAULT_TTL if expires_in is None else expires_in
    if ttl > app_settings.TOKEN_MAX_TTL:
        raise ExpiresInTooLarge()
    client_user = authenticate_client_user(client=client, identifier=identifier, secret=secret)
    return issue_token(user=client_user.user, kind="client", ttl=ttl, client_id=str(client.pk))


def issue_token_for_api_key(
    *,
    presented: str,
    ip: str,
    identifier: str,
    secret: str,
    expires_in: int | None = None,
    fallback: bool = False,
) -> IssuedToken:
    """``POST /api/tokens`` in one pass: API key, user credentials, token.

    The answers of ``authenticate_api_key`` then ``issue_client_token``, with both lockouts
    read in one store round trip and client and user found in one SQL statement
    (``clients.services.authenticate_client_and_user``), which also records the token once
    this process knows the key's client (then signed here).

    Raises:
        CredentialLocked: 429; InvalidApiKey: 401; ExpiresInTooLarge: 400 (after the API key,
            before the user's credentials); InvalidUserCredentials: 401.
    """
    ttl = app_settings.TOKEN_DEFAULT_TTL if expires_in is None else expires_in
    if ttl > app_settings.TOKEN_MAX_TTL:
        authenticate_api_key(presented=presented, ip=ip)
        raise ExpiresInTooLarge()
    exchange = authenticate_client_and_user(
        presented=presented,
        ip=ip,
        identifier=identifier,
        secret=secret,
        token_ttl=ttl,
        fallback=fallback,
    )
    if exchange.pending is not None:  # recorded by the lookup's own statement
        return sign_pending(exchange.pending)
    client_user = exchange.client_user
    return issue_token(
        user=client_user.user, kind="client", ttl=ttl, client_id=str(client_user.client_id)
    )


def introspect_token(*, client: Client, raw: str) -> dict[str, Any]:
    """RFC 7662 §2.2: ``{"active": true, ...claims}`` for an active token of this client.

    Anything else (malformed, expired, revoked, another client's token, a token of no client)
    is ``{"active": false}`` and nothing more, so a client learns nothing about tokens that
    are not its own (RFC 7662 §4).
    """
    try:
        verified = verify_token(raw)
    except AuthcoreError:
        return {"active": False}
    if verified.client_id != str(client.pk):
        return {"active": False}
    return {
        **verified.claims,
        "active": True,
        "token_type": "Bearer",
        "username": verified.user.get_username(),
    }


def revoke_token_as_client(
    *, client: Client, token: str | None = None, jti: str | None = None
) -> bool:
    """RFC 7009 §2.1 for a client: revoke one of its own tokens, named by value or by jti.

    An unknown, invalid, already revoked or foreign token is not an error (RFC 7009 §2.2:
    the answer is 200 either way); it is simply left alone. True if something was revoked.
    """
    if token is not None:
        jti = jti_of_signed_token(token)
    if not jti:
        return False
    record = token_by_jti(jti)
    if record is None or record.client_id != str(client.pk):
        return False
    return revoke_token(jti=jti, actor=client)


def revoke_token_as_user(*, user: Any, token: str | None = None, jti: str | None = None) -> bool:
    """RFC 7009 §2.1 for a bearer: revoke a token of the same user (itself or another).

    Like ``revoke_token_as_client``, another user's or an unknown token is left alone.
    """
    if token is not None:
        jti = jti_of_signed_token(token)
    if not jti:
        return False
    record = token_by_jti(jti)
    if record is None or str(record.user_id) != str(user.pk):
        return False
    return revoke_token(jti=jti, actor=user)


def delete_token_of_client(*, client: Client, jti: str) -> None:
    """``DELETE /api/tokens/{jti}``: revoke a token of this client.

    Raises:
        TokenNotFound: 404, no such token or another client's (the two look the same).
    """
    record = token_by_jti(jti)
    if record is None or record.client_id != str(client.pk):
        raise TokenNotFound()
    revoke_token(jti=jti, actor=client)

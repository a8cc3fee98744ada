"""``POST /api/tokens``: the lockout keys its first store read will ask for, read ahead in the
rate limiter's round trip (``authcore.store``, "Read-ahead").

``clients.services.authenticate_client_and_user`` starts with one MGET of the lock and failure
keys of the API key's subject and, once this process knows the key's client, the user's
subject. Those names depend only on the ``x-api-key`` header (else ``CLIENT_API_KEY``), the
client IP and the body's ``identifier``, so the limiter can read them in its own round trip
and the exchange makes one Redis round trip fewer. This module only guesses names: whatever
it gets wrong (an odd body, an unknown key) makes the service read them itself, as before.
"""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, UnreadablePostError

from authcore.client_ip import client_ip
from clients.authentication import presented_api_key, sent_no_api_key
from clients.internal.credential_hashing import parse_api_key
from clients.internal.lockout import api_key_subject, user_secret_subject
from clients.selectors import known_client_id

TOKEN_EXCHANGE_PATH = "/api/tokens"
# A token exchange body is a few hundred bytes; a larger one is not read here.
_MAX_BODY = 4096


def token_exchange_names(request: HttpRequest) -> list[str]:
    """The store names ``authenticate_client_and_user`` reads first, or [] (module doc)."""
    presented = presented_api_key(request, fallback=True)  # as the view's authentication
    if presented is None:
        return []
    parsed = parse_api_key(presented)
    api = api_key_subject(parsed.lookup_id, client_ip(request))
    names = [api.lock_name, api.failures_name]
    client_id = known_client_id(parsed.lookup_id) if parsed.lookup_id else None
    identifier = _identifier(request) if client_id is not None else None
    if client_id is not None and identifier is not None:
        anonymous_ip = client_ip(request) if sent_no_api_key(request) else ""
        user = user_secret_subject(client_id, identifier, anonymous_ip=anonymous_ip)
        names += [user.lock_name, user.failures_name]
    return names


def _identifier(request: HttpRequest) -> str | None:
    """The JSON body's ``identifier`` when it is a small JSON object with a string there."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= _MAX_BODY or request.content_type != "application/json":
        return None
    try:
        data = json.loads(request.body)
    except (ValueError, RecursionError, UnreadablePostError, RequestDataTooBig):
        return None  # the view answers these (a 4 KB body can nest 2,000 deep: RecursionError)
    identifier = data.get("identifier") if type(data) is dict else None
    return identifier if type(identifier) is str else None

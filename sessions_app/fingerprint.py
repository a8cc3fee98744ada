"""The client fingerprint a browser session is bound to.

SHA-256 of the User-Agent and the client IP (decided by ``authcore.client_ip``, so a spoofed
``X-Forwarded-For`` from an untrusted peer changes nothing). A stolen cookie replayed from another
browser or network does not match and ends the session.
"""

from __future__ import annotations

import hashlib
import hmac

from django.http import HttpRequest

from authcore.client_ip import client_ip


def client_fingerprint(request: HttpRequest) -> str:
    """Hex SHA-256 of ``User-Agent`` + NUL + client IP."""
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    material = f"{user_agent}\x00{client_ip(request)}".encode("utf-8", "surrogateescape")
    return hashlib.sha256(material).hexdigest()


def fingerprint_matches(request: HttpRequest, expected: str) -> bool:
    """Constant-time comparison of the request's fingerprint with the stored one."""
    return hmac.compare_digest(client_fingerprint(request), expected)

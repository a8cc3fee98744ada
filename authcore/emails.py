"""One form of an email address for every comparison: the address mail is routed by.

API.md: addresses are one identity whatever their case. "The same address" must mean the
same mailbox, or a code mailed to one address signs in another's account: PostgreSQL's
``UPPER`` (Django's ``iexact``) turns U+0131 (dotless i) into ``I``, so ``alice@v\u0131ctim.test``,
a domain anyone can register (``xn--vctim-n4a.test``), once matched ``alice@victim.test``.

The canonical form: the local part lower-cased, the domain in its ASCII form (IDNA 2008 with
UTS 46 mapping, which folds case and compatibility forms as resolvers do), lower-cased.
Users are stored with it, mail is sent to it, lookups compare it exactly.

The local part must be plain ASCII without quotes or backslashes: Django's mail sends a
non-ASCII local part as an RFC 2047 encoded word (another mailbox than the one the code is
kept under) and has no SMTPUTF8, and a quoted ``"alice"@`` is ``alice@``'s mailbox spelled
differently. RFC 5321's limits apply: 64 characters of local part, 254 in all.
"""

from __future__ import annotations

import idna


def canonical_email(address: str) -> str | None:
    """The canonical form of ``address``, or None if it has no domain mail can reach."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not domain or not _plain_local_part(local):
        return None
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    canonical = f"{local.lower()}@{ascii_domain.lower()}"
    return canonical if len(canonical) <= 254 else None


def _plain_local_part(local: str) -> bool:
    return (
        0 < len(local) <= 64
        and local.isascii()
        and local.isprintable()
        and not any(char in local for char in ' "\\')
    )

"""One form of an email address for every comparison: the address mail is routed by.

API.md: addresses are one identity whatever their case. "The same address" must mean the
same mailbox, or a code mailed to one address signs in another's account: PostgreSQL's
``UPPER`` (Django's ``iexact``) turns U+0131 (dotless i) into ``I``, so ``alice@v\u0131ctim.test``,
a domain anyone can register (``xn--vctim-n4a.test``), once matched ``alice@victim.test``.

The canonical form: the local part lower-cased, the domain in its ASCII form (IDNA 2008 with
UTS 46 mapping, which folds case and compatibility forms as resolvers do), lower-cased.
Users are stored with it, mail is sent to it, lookups compare it exactly.
"""

from __future__ import annotations

import idna


def canonical_email(address: str) -> str | None:
    """The canonical form of ``address``, or None if it has no domain mail can reach."""
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain or not local.isprintable() or " " in local:
        return None
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    return f"{local.lower()}@{ascii_domain.lower()}"

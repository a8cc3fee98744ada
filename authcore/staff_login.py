"""Staff sign-in to the admin: counted, audited and locked like the master credentials.

Django's admin login checks a staff password with nothing around it but the global rate limit,
yet that password opens the whole console. Here every POST to ``/admin/login/`` is counted
before the password is checked (``authcore.lockout.reserve_attempt``: a burst of parallel
guesses gets no extra checks), per (username, client IP; an IPv6 client's /64): the fifth
failure within 15 minutes locks that pair for 15 minutes (429 with ``Retry-After``, even for the
right password), failures and lockouts are audit events (``staff.auth_failed``,
``staff.locked_out``) counted in ``authcore_auth_failures_total{reason="staff_password"}``, and
a success is ``staff.signed_in``. Counting per address as well as per username keeps anyone
from locking staff out from elsewhere; the username is folded to lower case and need not exist.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from authcore.audit import record_event
from authcore.client_ip import client_ip, client_network
from authcore.exceptions import CredentialLocked
from authcore.lockout import (
    Subject,
    clear_failures,
    ensure_not_locked,
    reserve_attempt,
    settle_failure,
)


def staff_subject(username: str, ip: str) -> Subject:
    return Subject("staff", (username.strip().lower(), client_network(ip)))


def staff_login(request: HttpRequest, **kwargs: object) -> HttpResponse:
    """``/admin/login/``: Django's admin login view behind the lockout (module doc)."""
    if request.method != "POST":
        return admin.site.login(request, **kwargs)  # type: ignore[arg-type]
    subject = staff_subject(str(request.POST.get("username", "")), client_ip(request))
    try:
        ensure_not_locked(subject)
        attempt = reserve_attempt(subject)
    except CredentialLocked as locked:
        refused = HttpResponse(
            "Too many failed sign-ins from here for this username. Try again later.",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        refused["Retry-After"] = str(locked.retry_after)
        return refused
    response = admin.site.login(request, **kwargs)  # type: ignore[arg-type]
    user = getattr(request, "user", None)
    if response.status_code == 302 and user is not None and user.is_authenticated:
        clear_failures([subject])
        record_event("staff.signed_in", actor=user, target=f"user:{user.pk}")
    else:
        settle_failure(subject, attempt, reason="staff_password", target="staff")
    return response

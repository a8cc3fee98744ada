"""Staff sign-in to the admin is counted, audited and locked (authcore/staff_login.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from authcore.models import AuditEvent, User

pytestmark = pytest.mark.django_db

PASSWORD = "staff-password-for-the-login-tests-0123456789"
MAX_FAILURES = 5


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser(
        username="root", email="root@example.test", password=PASSWORD
    )


def sign_in(browser: Client, username: str, password: str, address: str = "127.0.0.1") -> Any:
    return browser.post(
        "/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_wrong_staff_passwords_are_audited_and_lock_that_username_from_that_address(root):
    browser = Client()
    for _ in range(MAX_FAILURES):
        assert sign_in(browser, "root", "wrong").status_code == 200  # the form, with its error

    locked = sign_in(browser, "Root", PASSWORD)  # the right one, in another case: still locked

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert browser.get("/admin/").status_code == 302  # to the login form: not signed in
    assert AuditEvent.objects.filter(action="staff.auth_failed").count() == MAX_FAILURES
    assert AuditEvent.objects.filter(action="staff.locked_out").count() == 1
    # Another address is not locked out by this one.
    elsewhere = sign_in(Client(), "root", PASSWORD, address="198.51.100.7")
    assert elsewhere.status_code == 302


def test_a_successful_staff_sign_in_is_audited_and_clears_the_count(root):
    browser = Client()
    for _ in range(MAX_FAILURES - 1):
        sign_in(browser, "root", "wrong")
    assert sign_in(browser, "root", PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(action="staff.signed_in").count() == 1

    browser.logout()
    for _ in range(MAX_FAILURES - 1):
        sign_in(browser, "root", "wrong")
    assert sign_in(browser, "root", PASSWORD).status_code == 302  # the count started again


def test_an_unknown_username_is_locked_alike(db):
    browser = Client()
    answers = [sign_in(browser, "nobody", "wrong").status_code for _ in range(MAX_FAILURES + 1)]
    assert answers == [200] * MAX_FAILURES + [429]

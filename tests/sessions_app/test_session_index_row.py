"""The session index row is checked on every request, whatever the shared store still holds:
a session ended or expired in the database is no session, even if its Redis record survived
(a delete that could not reach Redis, a clock that moved on)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.internal.session_store import key_hash
from sessions_app.models import BrowserSession

pytestmark = pytest.mark.django_db


def _row(browser) -> BrowserSession:
    return BrowserSession.objects.get(key_hash=key_hash(browser.session_id))


def test_a_deleted_index_row_ends_the_session(browser) -> None:
    assert browser.client.get("/auth/web/me").status_code == 200
    BrowserSession.objects.filter(pk=_row(browser).pk).delete()  # no signal: Redis keeps it
    assert browser.client.get("/auth/web/me").status_code == 401


def test_an_index_row_past_its_expiry_ends_the_session(browser) -> None:
    assert browser.client.get("/auth/web/me").status_code == 200
    past = timezone.now() - timedelta(seconds=1)
    BrowserSession.objects.filter(pk=_row(browser).pk).update(expires_at=past)
    assert browser.client.get("/auth/web/me").status_code == 401


def test_the_user_comes_from_the_same_query(browser, django_assert_num_queries) -> None:
    browser.client.get("/auth/web/me")
    with django_assert_num_queries(1):
        body = browser.client.get("/auth/web/me").json()
    assert body["user"]["id"] == str(browser.user.pk)
    assert body["user"]["email"] == browser.user.email

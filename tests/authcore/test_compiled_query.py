"""``authcore.compiled_query``: the same rows as the queryset it was compiled from, for any
values, on any thread, with the queries still visible to Django."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authcore.compiled_query import CompiledInsert, CompiledQuery
from authcore.models import AuditEvent, User
from sessions_app.models import BrowserSession

pytestmark = pytest.mark.django_db(transaction=True)


def _users(*, username: str, email: str) -> QuerySet[Any]:
    return (
        User.objects.filter(Q(username=username) | Q(email=email), is_active=True)
        .order_by("username")
        .values_list("id", "username", "email", "date_joined")
    )


QUERY = CompiledQuery(_users, "username", "email")


@pytest.fixture
def people() -> list[User]:
    return [
        User.objects.create(username="ada", email="ada@example.com"),
        User.objects.create(username="o'brien%_", email="ob@example.com"),
        User.objects.create(username="gone", email="gone@example.com", is_active=False),
    ]


@pytest.mark.parametrize(
    ("username", "email"),
    [
        ("ada", "nobody@example.com"),
        ("o'brien%_", ""),  # quotes and LIKE wildcards are values, never SQL
        ("gone", "ada@example.com"),  # the inactive row stays out: constants are kept
        ("ada", "ob@example.com"),
        ("nobody", "nobody@example.com"),
    ],
)
def test_rows_equal_the_querysets_rows(people: list[User], username: str, email: str) -> None:
    assert QUERY.rows(username=username, email=email) == list(
        _users(username=username, email=email)
    )


def test_values_come_back_converted_like_the_orm_does(people: list[User]) -> None:
    (row,) = QUERY.rows(username="ada", email="")
    assert row[0] == people[0].pk and row[3] == people[0].date_joined


def test_each_thread_compiles_for_its_own_connection(people: list[User]) -> None:
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(QUERY.rows(username="ada", email=""))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert results == [QUERY.rows(username="ada", email="")]


def test_a_call_is_one_query_django_sees(people: list[User]) -> None:
    QUERY.rows(username="ada", email="")
    with CaptureQueriesContext(connection) as queries:
        QUERY.rows(username="ada", email="")
    assert len(queries.captured_queries) == 1


def test_a_value_the_lookup_rewrites_cannot_be_compiled(people: list[User]) -> None:
    rewritten = CompiledQuery(
        lambda *, name: User.objects.filter(username__contains=name).values_list("id"), "name"
    )
    with pytest.raises(ValueError, match="unchanged SQL parameter"):
        rewritten.rows(name="ad")


def test_missing_or_extra_values_are_refused(people: list[User]) -> None:
    with pytest.raises(TypeError):
        QUERY.rows(username="ada")
    with pytest.raises(TypeError):
        QUERY.rows(username="ada", email="", extra="x")


# --- CompiledInsert ---------------------------------------------------------------------------


def _session(user: User, key: str) -> BrowserSession:
    now = timezone.now()
    return BrowserSession(
        key_hash=key,
        user=user,
        method="passkey",
        created_at=now,
        expires_at=now + timedelta(hours=1),
        client_ip="2001:db8::1",
        user_agent="ua",
    )


INSERT = CompiledInsert(BrowserSession)


def test_an_inserted_row_reads_back_as_the_orm_would_have_written_it(people: list[User]) -> None:
    mine, theirs = _session(people[0], "a" * 64), _session(people[0], "b" * 64)
    INSERT.insert(mine)
    INSERT.insert(_session(people[1], "c" * 64))  # the compiled SQL again, other values
    theirs.save(force_insert=True)
    columns = ("user_id", "method", "created_at", "expires_at", "client_ip", "user_agent")
    stored = {row["key_hash"]: row for row in BrowserSession.objects.values("key_hash", *columns)}
    assert {name: stored["a" * 64][name] for name in columns} == {
        name: getattr(mine, name) for name in columns
    }
    assert stored["c" * 64]["user_id"] == people[1].pk
    assert mine._state.adding is False and mine._state.db == "default"


def test_a_duplicate_key_fails_and_leaves_the_first_row(people: list[User]) -> None:
    INSERT.insert(_session(people[0], "d" * 64))
    with pytest.raises(IntegrityError), transaction.atomic():
        INSERT.insert(_session(people[1], "d" * 64))
    assert BrowserSession.objects.get(key_hash="d" * 64).user_id == people[0].pk


def test_a_model_with_a_database_generated_key_is_refused() -> None:
    with pytest.raises(ValueError, match="database-generated"):
        CompiledInsert(AuditEvent)

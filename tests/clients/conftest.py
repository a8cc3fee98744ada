"""Fixtures of the client-service tests: everything is created over HTTP, as a backend would."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.leaks import outcome

MASTER_USERNAME = "operator"
MASTER_PASSWORD = "a-long-random-master-password-for-tests-0123456789"


def basic(username: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


@dataclass
class Backend:
    """A client as its backend team holds it: an id and an API key."""

    id: str
    name: str
    api_key: str = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key}


@dataclass
class ClientUserCredentials:
    id: str
    identifier: str
    secret: str = field(repr=False)


@dataclass
class Bearer:
    raw: str = field(repr=False)
    jti: str
    expires_in: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.raw}"}


@pytest.fixture
def master(settings: Any) -> dict[str, str]:
    """Master credentials configured; returns the Basic header that carries them."""
    settings.MASTER_USERNAME = MASTER_USERNAME
    settings.MASTER_PASSWORD = MASTER_PASSWORD
    return basic(MASTER_USERNAME, MASTER_PASSWORD)


def create_backend(api_client: APIClient, master: dict[str, str], name: str) -> Backend:
    response = api_client.post("/api/clients", {"name": name}, format="json", headers=master)
    assert response.status_code == 201, outcome(response)
    body = response.json()
    return Backend(id=body["id"], name=body["name"], api_key=body["api_key"])


def create_user(
    api_client: APIClient, backend: Backend, identifier: str, **extra: Any
) -> ClientUserCredentials:
    response = api_client.post(
        "/api/users", {"identifier": identifier, **extra}, format="json", headers=backend.headers
    )
    assert response.status_code == 201, outcome(response)
    body = response.json()
    return ClientUserCredentials(
        id=body["id"], identifier=body["identifier"], secret=body["secret"]
    )


def get_token(
    api_client: APIClient, backend: Backend, user: ClientUserCredentials, **extra: Any
) -> Bearer:
    response = api_client.post(
        "/api/tokens",
        {"identifier": user.identifier, "secret": user.secret, **extra},
        format="json",
        headers=backend.headers,
    )
    assert response.status_code == 201, outcome(response)
    body = response.json()
    return Bearer(raw=body["access_token"], jti=body["jti"], expires_in=body["expires_in"])


@pytest.fixture
def backend(db: None, api_client: APIClient, master: dict[str, str]) -> Backend:
    return create_backend(api_client, master, "Shop backend")


@pytest.fixture
def other_backend(db: None, api_client: APIClient, master: dict[str, str]) -> Backend:
    return create_backend(api_client, master, "Another company")


@pytest.fixture
def alice(api_client: APIClient, backend: Backend) -> ClientUserCredentials:
    return create_user(api_client, backend, "alice@shop", email="alice@example.test")


@pytest.fixture
def bearer(api_client: APIClient, backend: Backend, alice: ClientUserCredentials) -> Bearer:
    return get_token(api_client, backend, alice)


def at_once(count: int, send: Callable[[APIClient], Any]) -> list[Any]:
    """``count`` requests sent by as many threads released together (a barrier), each with a
    client and a database connection of its own; their answers, in completion order."""
    barrier = threading.Barrier(count)
    answers: list[Any] = []

    def one() -> None:
        try:
            client = APIClient()
            barrier.wait()
            answers.append(send(client))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers

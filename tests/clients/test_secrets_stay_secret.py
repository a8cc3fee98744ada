"""The whole chain as an integrating backend walks it, watching where each secret goes.

API keys, user secrets and access tokens appear exactly once, in the response that creates
them, and never in the database in clear (every table is read), in the logs (rendered by the
real logging configuration) or in an error.
"""

from __future__ import annotations

import io
import logging

import pytest
from django.db import connection

from authcore.logging import build_formatter
from clients.models import Client, ClientUser
from clients.services import create_client
from tests.clients.conftest import create_backend, create_user, get_token
from tests.leaks import assert_absent

# Real commits: revocation reaches Redis in transaction.on_commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rendered_logs():
    """Every log record of the run, rendered as production renders it (JSON, redacted)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(build_formatter("json"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def _database_dump() -> str:
    """Every row of every table, as text."""
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts)


def test_each_secret_appears_once_in_a_response_and_never_in_the_database_or_logs(
    api_client, master, rendered_logs, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []

    def record(response):
        bodies.append(response.content.decode())
        return response

    created = record(
        api_client.post("/api/clients", {"name": "Shop"}, format="json", headers=master)
    )
    api_key = created.json()["api_key"]
    rotated = record(
        api_client.post(f"/api/clients/{created.json()['id']}/rotate-key", headers=master)
    )
    new_key = rotated.json()["api_key"]
    headers = {"x-api-key": new_key}
    user = record(
        api_client.post("/api/users", {"identifier": "alice"}, format="json", headers=headers)
    )
    secret = user.json()["secret"]
    record(api_client.post("/api/users", {"identifier": "alice"}, format="json", headers=headers))
    token = record(
        api_client.post(
            "/api/tokens", {"identifier": "alice", "secret": secret}, format="json", headers=headers
        )
    )
    access_token = token.json()["access_token"]
    # Failures that echo what was sent must not echo it back either.
    record(
        api_client.post(
            "/api/tokens",
            {"identifier": "alice", "secret": secret + "x"},
            format="json",
            headers=headers,
        )
    )
    record(
        api_client.post(
            "/api/users", {"identifier": "b"}, format="json", headers={"x-api-key": api_key}
        )
    )
    record(
        api_client.post(
            "/api/clients",
            {"name": "x"},
            format="json",
            headers={"Authorization": "Basic " + "b3BlcmF0b3I6" + "d3Jvbmc="},
        )
    )
    bearer = {"Authorization": f"Bearer {access_token}"}
    record(api_client.get("/api/me", headers=bearer))
    record(
        api_client.post(
            "/api/tokens/introspect", {"token": access_token}, format="json", headers=headers
        )
    )
    record(
        api_client.post(
            "/api/tokens/revoke", {"token": access_token}, format="json", headers=headers
        )
    )
    record(api_client.get("/api/me", headers=bearer))

    everything = "\n".join(bodies)
    secrets = {
        "api key": api_key,
        "rotated key": new_key,
        "user secret": secret,
        "access token": access_token,
    }
    for name, value in secrets.items():
        assert everything.count(value) == 1, name

    database = _database_dump()
    logs = rendered_logs.getvalue() + caplog.text + "".join(capsys.readouterr())
    assert logs  # the run did log (requests, audit events)
    from tests.clients.conftest import MASTER_PASSWORD

    for name, value in {**secrets, "master password": MASTER_PASSWORD}.items():
        body = value.split(".", 1)[-1] if name != "master password" else value
        assert_absent(database, "the database", **{name: body})
        assert_absent(logs, "the logs", **{name: body})


def test_reprs_and_strs_show_ids_and_prefixes_only(api_client, backend, alice):
    client = Client.objects.get(pk=backend.id)
    client_user = ClientUser.objects.get(identifier=alice.identifier)
    for text in (repr(client), str(client), repr(client_user), str(client_user)):
        assert_absent(
            text,
            "a repr or str",
            api_key=backend.api_key,
            key_hash=client.key_hash,
            secret=alice.secret,
            secret_hash=client_user.secret_hash,
        )
    assert client.key_prefix in str(client)
    created = create_client(name="repr check")
    assert_absent(repr(created), "the new client's repr", api_key=created.api_key)


def test_the_database_keeps_only_keyed_hashes(api_client, backend, alice):
    client = Client.objects.get(pk=backend.id)
    client_user = ClientUser.objects.get(identifier=alice.identifier)
    assert client.key_hash.startswith("hmac_sha256$") and len(client.key_hash) == 12 + 64
    assert client_user.secret_hash.startswith("hmac_sha256$")
    key_prefix, secret_prefix = backend.api_key.split(".")[0], alice.secret.split(".")[0]
    assert key_prefix == f"ak_{client.key_id}"
    assert secret_prefix == f"us_{client_user.secret_tag}"


def test_two_backends_walk_the_chain_without_seeing_each_other(api_client, master):
    shop = create_backend(api_client, master, "Shop")
    bank = create_backend(api_client, master, "Bank")
    alice = create_user(api_client, shop, "alice")
    token = get_token(api_client, shop, alice)
    assert api_client.post(
        "/api/tokens/introspect", {"token": token.raw}, format="json", headers=bank.headers
    ).json() == {"active": False}
    assert api_client.delete(f"/api/tokens/{token.jti}", headers=bank.headers).status_code == 404
    assert api_client.get("/api/me", headers=token.headers).json()["identifier"] == "alice"

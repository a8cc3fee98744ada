"""Fixtures of the passkeys tests: a software authenticator, ceremony helpers, an SMTP sink."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.leaks import outcome
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.browser import chromium  # noqa: F401 (fixture for the browser tests)

REGISTER_OPTIONS = "/api/auth/passkey/register/options"
REGISTER_VERIFY = "/api/auth/passkey/register/verify"
LOGIN_OPTIONS = "/api/auth/passkey/login/options"
LOGIN_VERIFY = "/api/auth/passkey/login/verify"


@pytest.fixture
def authenticator() -> SoftwareAuthenticator:
    return SoftwareAuthenticator(rp_id=django_settings.API_RP_ID, origin=django_settings.API_ORIGIN)


def register(
    client: APIClient,
    authenticator: SoftwareAuthenticator,
    username: str = "alice",
    *,
    headers: dict[str, str] | None = None,
    **create_kwargs: Any,
) -> Any:
    """Run both registration calls; returns the verify response."""
    options = client.post(REGISTER_OPTIONS, {"username": username}, format="json", headers=headers)
    assert options.status_code == 200, outcome(options)
    credential = authenticator.create(options.json(), **create_kwargs)
    return client.post(REGISTER_VERIFY, credential, format="json", headers=headers)


def login(
    client: APIClient,
    authenticator: SoftwareAuthenticator,
    username: str | None = None,
    **get_kwargs: Any,
) -> Any:
    """Run both sign-in calls (username-less unless a username is given)."""
    body = {"username": username} if username else {}
    options = client.post(LOGIN_OPTIONS, body, format="json")
    assert options.status_code == 200, outcome(options)
    return client.post(LOGIN_VERIFY, authenticator.get(options.json(), **get_kwargs), format="json")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def alice(db: Any, api_client: APIClient, authenticator: SoftwareAuthenticator) -> dict[str, Any]:
    """Alice signed up with one passkey; her registration answer."""
    response = register(api_client, authenticator, "alice")
    assert response.status_code == 201, outcome(response)
    result: dict[str, Any] = response.json()
    return result


# --- SMTP sink ------------------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 Message accepted"

    def last_to(self, address: str) -> EmailMessage:
        for message in reversed(self.messages):
            if address.lower() in str(message["To"]).lower():
                return message
        raise LookupError(f"no mail to {address}")

    def code_for(self, address: str) -> str:
        match = re.search(r"\b(\d{6})\b", self.last_to(address).get_content())
        assert match, "the mail shows a 6-digit code"
        return match.group(1)

    def link_for(self, address: str) -> str:
        match = re.search(r"(https?://\S+\?token=\S+)", self.last_to(address).get_content())
        assert match, "the mail has a sign-in link"
        return match.group(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free port; Django's SMTP backend sends to it."""
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    try:
        yield box
    finally:
        controller.stop()

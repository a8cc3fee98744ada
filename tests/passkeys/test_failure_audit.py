"""Refused sign-ins stay on the audit trail (the staff dashboard's failures by reason)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from authcore.models import AuditEvent
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import Mailbox, login
from tests.passkeys.test_email_fallback import start, verify

pytestmark = pytest.mark.django_db


def test_a_refused_passkey_sign_in_is_audited_with_its_reason(
    api_client: APIClient, authenticator: SoftwareAuthenticator, alice: dict[str, Any]
) -> None:
    response = login(api_client, authenticator, tamper_signature=True)

    assert response.status_code == 400
    event = AuditEvent.objects.get(action="signin.passkey", outcome="signature_invalid")
    assert event.target == "passkey"


def test_a_wrong_email_code_is_audited_and_the_attempt_still_counts(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    start(api_client, "carol@example.test")
    right = mailbox.code_for("carol@example.test")
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = verify(api_client, email="carol@example.test", code=wrong)

    assert response.json()["code"] == "code_invalid"
    assert AuditEvent.objects.filter(action="signin.email", outcome="code_invalid").count() == 1
    # The audit write did not undo the counted attempt: four more wrong codes void it.
    for _ in range(4):
        verify(api_client, email="carol@example.test", code=wrong)
    assert (
        verify(api_client, email="carol@example.test", code=right).json()["code"] == "code_voided"
    )

"""Operations around tokens: metrics, audit trail, pruning, the beat task, provider JWTs."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from django.core.management import call_command
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from authcore import metrics
from authcore.models import AuditEvent, User
from tests.leaks import assert_absent
from tests.tokens import forge
from tests.tokens.conftest import Clock
from tokens import services, tasks
from tokens.authentication import BearerTokenAuthentication
from tokens.exceptions import InvalidToken
from tokens.models import SigningKey, TokenRecord

pytestmark = pytest.mark.django_db(transaction=True)


def sample(name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics.render().decode()):
        for item in family.samples:
            if item.name == name and all(item.labels.get(k) == v for k, v in labels.items()):
                return float(item.value)
    return 0.0


def test_issues_refusals_revocations_and_rotations_are_counted(user: User) -> None:
    issued_before = sample("authcore_tokens_issued_total", kind="passkey")
    failures_before = sample("authcore_auth_failures_total", reason="token_algorithm")
    revocations_before = sample("authcore_token_revocations_total")
    rotations_before = sample("authcore_key_rotations_total")
    token = services.issue_token(user=user, kind="passkey")
    with pytest.raises(InvalidToken):
        services.verify_token(forge.unsigned(token.claims, "kid"))
    services.revoke_token(jti=token.jti)
    call_command("rotate_keys", "--now")
    assert sample("authcore_tokens_issued_total", kind="passkey") == issued_before + 1
    assert sample("authcore_auth_failures_total", reason="token_algorithm") == failures_before + 1
    assert sample("authcore_token_revocations_total") == revocations_before + 1
    assert sample("authcore_key_rotations_total") >= rotations_before + 1
    assert sample("authcore_signing_keys", state="current") == 1


def test_a_revocation_leaves_an_audit_event_without_the_token(user: User) -> None:
    token = services.issue_token(user=user, kind="client")
    services.revoke_token(jti=token.jti, actor=user)
    event = AuditEvent.objects.get(action="token.revoked")
    assert event.target == f"token:{token.jti}" and event.actor_id == str(user.pk)
    assert_absent(str(event.detail), "the audit event", token=token.raw)


def test_prune_deletes_expired_records_and_keys_nothing_needs(
    user: User, frozen_clock: Clock, settings: Any
) -> None:
    settings.JWT_KEY_ROTATION_HOURS = 1
    settings.JWT_KEY_PUBLISH_AHEAD_MINUTES = 10
    settings.JWT_KEY_TTL_HOURS = 1
    services.issue_token(user=user, kind="client", ttl=600)
    live = services.issue_token(user=user, kind="client", ttl=30 * 86_400)
    first = SigningKey.objects.get().kid
    TokenRecord.objects.filter(jti=live.jti).update(signing_key_id=first)
    services.revoke_key(kid=first)
    frozen_clock.advance(hours=1)
    call_command("prune")
    assert list(TokenRecord.objects.values_list("jti", flat=True)) == [live.jti]
    assert SigningKey.objects.filter(kid=first).exists()  # a live record still points at it
    TokenRecord.objects.all().delete()
    assert services.prune_expired() >= 1
    assert not SigningKey.objects.filter(kid=first).exists()


def test_deleting_a_signing_key_still_deletes_the_records_it_signed(user: User) -> None:
    # The record's key column has no database constraint (migration tokens 0002): the ORM's
    # cascade is what keeps records from naming a key that no longer exists.
    token = services.issue_token(user=user, kind="client")
    SigningKey.objects.get(kid=jwt.get_unverified_header(token.raw)["kid"]).delete()
    assert not TokenRecord.objects.filter(jti=token.jti).exists()
    with pytest.raises(InvalidToken):
        services.verify_token(token.raw)


def test_the_beat_task_rotates_keys() -> None:
    activated = tasks.rotate_keys_task.apply().get()
    assert activated == [SigningKey.objects.get(state="current").kid]


def test_a_bearer_token_is_ours_unless_a_configured_provider_takes_it(
    user: User, settings: Any
) -> None:
    """Authcore's class verifies every token it sees (the provider class runs first and keeps
    its own): a JWT naming a provider's issuer that reaches it is a forgery of ours."""
    settings.OIDC_PROVIDERS = [{"name": "idp", "issuer": "https://idp.example", "client_id": "a"}]
    foreign = forge.signed_with(
        forge.attacker_key(), {"iss": "https://idp.example", "sub": "x"}, kid="idp-key"
    )
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {foreign}"))
    with pytest.raises(InvalidToken):
        BearerTokenAuthentication().authenticate(request)
    ours = services.issue_token(user=user, kind="client")
    assert jwt.get_unverified_header(ours.raw)["kid"]
    response = APIClient().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {ours.raw}")
    assert response.status_code == 200

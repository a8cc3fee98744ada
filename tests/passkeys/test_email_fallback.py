"""The email fallback: a code and a link mailed through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from authcore.models import User
from passkeys.exceptions import EmailCodeInvalid
from passkeys.models import EmailCode
from tests.leaks import assert_absent, outcome
from tests.passkeys.authenticator import SoftwareAuthenticator
from tests.passkeys.conftest import LOGIN_OPTIONS, LOGIN_VERIFY, Mailbox, bearer
from tests.passkeys.test_registration import claims_of

pytestmark = pytest.mark.django_db

START = "/api/auth/email/start"
VERIFY = "/api/auth/email/verify"


def start(client: APIClient, address: str) -> Any:
    return client.post(START, {"email": address}, format="json")


def verify(client: APIClient, **body: str) -> Any:
    return client.post(VERIFY, body, format="json")


def link_token(mailbox: Mailbox, address: str) -> str:
    return parse_qs(urlsplit(mailbox.link_for(address)).query)["token"][0]


def test_known_and_unknown_addresses_get_the_same_answer_and_a_mail(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    User.objects.create(username="known", email="known@example.test")

    known = start(api_client, "known@example.test")
    unknown = start(api_client, "nobody@example.test")

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert {str(m["To"]) for m in mailbox.messages} == {"known@example.test", "nobody@example.test"}


def test_the_mail_holds_six_digits_and_an_absolute_link_on_the_service(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    start(api_client, "alice@example.test")

    message = mailbox.last_to("alice@example.test")
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    assert len(mailbox.code_for("alice@example.test")) == 6
    link = urlsplit(mailbox.link_for("alice@example.test"))
    assert f"{link.scheme}://{link.netloc}" == settings.API_ORIGIN
    assert parse_qs(link.query)["token"][0]


def test_a_new_address_signs_up_with_the_code_and_is_verified(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    start(api_client, "Alice@Example.test")

    response = verify(
        api_client, email="alice@EXAMPLE.test", code=mailbox.code_for("alice@example.test")
    )

    assert response.status_code == 200, outcome(response)
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "user"}
    assert body["user"]["email"] == "alice@example.test"
    assert body["expires_in"] == settings.PASSKEY_TOKEN_TTL
    user = User.objects.get(pk=body["user"]["id"])
    assert user.email_verified is True
    assert claims_of(body["access_token"])["sub"] == str(user.pk)


def test_an_existing_user_is_found_whatever_the_case_of_the_address(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    existing = User.objects.create(username="al", email="Alice@Example.test")

    start(api_client, "ALICE@example.TEST")
    response = verify(
        api_client, email="alice@example.test", code=mailbox.code_for("alice@example.test")
    )

    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(existing.pk)
    assert User.objects.count() == 1


def test_the_link_signs_in_once(api_client: APIClient, mailbox: Mailbox) -> None:
    start(api_client, "alice@example.test")
    token = link_token(mailbox, "alice@example.test")

    first = verify(api_client, link_token=token)
    second = verify(api_client, link_token=token)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["code"] == "code_used"


def test_the_code_signs_in_once_and_then_the_link_is_dead_too(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    start(api_client, "alice@example.test")
    code = mailbox.code_for("alice@example.test")

    assert verify(api_client, email="alice@example.test", code=code).status_code == 200
    again = verify(api_client, email="alice@example.test", code=code)
    link = verify(api_client, link_token=link_token(mailbox, "alice@example.test"))

    assert again.json()["code"] == link.json()["code"] == "code_used"


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


def test_five_wrong_codes_void_the_code(api_client: APIClient, mailbox: Mailbox) -> None:
    start(api_client, "alice@example.test")
    right = mailbox.code_for("alice@example.test")
    wrong = wrong_code(right)

    answers = [verify(api_client, email="alice@example.test", code=wrong) for _ in range(5)]
    after = verify(api_client, email="alice@example.test", code=right)

    # Every wrong code reads "code_invalid", the 5th too; the right one then learns it is void.
    assert [a.json()["code"] for a in answers] == ["code_invalid"] * 5
    assert all(a.status_code == 400 for a in answers)
    assert after.status_code == 400
    assert after.json()["code"] == "code_voided"
    assert not User.objects.filter(email="alice@example.test").exists()


def test_four_wrong_codes_still_let_the_right_one_sign_in(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    start(api_client, "alice@example.test")
    right = mailbox.code_for("alice@example.test")

    for _ in range(4):
        verify(api_client, email="alice@example.test", code=wrong_code(right))
    response = verify(api_client, email="alice@example.test", code=right)

    assert response.status_code == 200


@pytest.mark.parametrize("state", ["used", "voided", "expired", "fifth_wrong"])
def test_a_wrong_code_answers_as_if_the_address_was_never_mailed(
    api_client: APIClient, mailbox: Mailbox, settings: Any, state: str
) -> None:
    # Whatever happened to the address's latest code, a guess learns nothing about it.
    if state == "expired":
        settings.PASSKEY_EMAIL_CODE_TTL = 0
    start(api_client, "victim@example.test")
    right = mailbox.code_for("victim@example.test")
    if state == "used":
        assert verify(api_client, email="victim@example.test", code=right).status_code == 200
    for _ in range({"voided": 5, "fifth_wrong": 4}.get(state, 0)):
        verify(api_client, email="victim@example.test", code=wrong_code(right))

    probe = verify(api_client, email="victim@example.test", code=wrong_code(right))
    never = verify(api_client, email="nobody@example.test", code=wrong_code(right))

    assert probe.status_code == never.status_code == 400
    assert (
        probe.json() == never.json() == {"detail": EmailCodeInvalid.detail, "code": "code_invalid"}
    )


@pytest.mark.parametrize(("state", "code"), [("used", "code_used"), ("expired", "code_expired")])
def test_the_right_code_still_learns_why_it_no_longer_works(
    api_client: APIClient, mailbox: Mailbox, settings: Any, state: str, code: str
) -> None:
    if state == "expired":
        settings.PASSKEY_EMAIL_CODE_TTL = 0
    start(api_client, "alice@example.test")
    right = mailbox.code_for("alice@example.test")
    if state == "used":
        verify(api_client, email="alice@example.test", code=right)

    response = verify(api_client, email="alice@example.test", code=right)

    assert response.status_code == 400
    assert response.json()["code"] == code


def test_guessing_at_a_used_code_never_voids_or_reopens_it(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    start(api_client, "alice@example.test")
    right = mailbox.code_for("alice@example.test")
    verify(api_client, email="alice@example.test", code=right)

    for _ in range(6):
        verify(api_client, email="alice@example.test", code=wrong_code(right))
    response = verify(api_client, email="alice@example.test", code=right)

    assert response.json()["code"] == "code_used"


def test_an_email_sign_in_with_a_session_ends_the_session_the_browser_held(
    api_client: APIClient,
    mailbox: Mailbox,
    authenticator: SoftwareAuthenticator,
    alice: dict[str, Any],
) -> None:
    # A shared computer: Alice signed in with a browser session, then Bob signs in by email.
    options = api_client.post(LOGIN_OPTIONS, {}, format="json").json()
    alices = api_client.post(
        LOGIN_VERIFY, {**authenticator.get(options), "session": True}, format="json"
    )
    alice_cookie = alices.cookies["user_session_id"].value
    start(api_client, "bob@example.test")

    bobs = api_client.post(
        VERIFY,
        {
            "email": "bob@example.test",
            "code": mailbox.code_for("bob@example.test"),
            "session": True,
        },
        format="json",
    )

    assert bobs.status_code == 200
    assert api_client.get("/auth/web/me").json()["user"]["email"] == "bob@example.test"
    replayed = APIClient()
    replayed.cookies["user_session_id"] = alice_cookie
    assert replayed.get("/auth/web/me").status_code == 401
    alices_sessions = api_client.get("/auth/web/sessions", headers=bearer(alice["access_token"]))
    assert alices_sessions.json() == []


def test_an_expired_code_is_refused(api_client: APIClient, mailbox: Mailbox, settings: Any) -> None:
    settings.PASSKEY_EMAIL_CODE_TTL = 0  # codes expire the moment they are sent
    start(api_client, "alice@example.test")

    response = verify(
        api_client, email="alice@example.test", code=mailbox.code_for("alice@example.test")
    )

    assert response.status_code == 400
    assert response.json()["code"] == "code_expired"


def test_every_start_mails_a_fresh_code_and_voids_the_previous_link(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    start(api_client, "alice@example.test")
    old_link = link_token(mailbox, "alice@example.test")
    start(api_client, "alice@example.test")
    new_link = link_token(mailbox, "alice@example.test")

    assert len(mailbox.messages) == 2
    assert new_link != old_link
    assert verify(api_client, link_token=old_link).json()["code"] == "code_voided"
    assert verify(api_client, link_token=new_link).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{"email": "alice@example.test", "code": "123456"}, {"link_token": "made-up"}],
)
def test_a_code_or_link_that_was_never_sent_is_invalid(
    api_client: APIClient, body: dict[str, str]
) -> None:
    response = api_client.post(VERIFY, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "code_invalid"


def test_codes_and_links_are_stored_only_as_hashes(api_client: APIClient, mailbox: Mailbox) -> None:
    start(api_client, "alice@example.test")
    code = mailbox.code_for("alice@example.test")
    token = link_token(mailbox, "alice@example.test")

    row = EmailCode.objects.values().get()
    stored = " ".join(str(value) for value in row.values())
    assert_absent(stored, "the email code's row", code=code, link_token=token)
    assert_absent(repr(EmailCode.objects.get()), "its repr", code=code)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (START, {}),
        (START, {"email": "not an address"}),
        (VERIFY, {}),
        (VERIFY, {"email": "alice@example.test"}),
        (VERIFY, {"code": "123456"}),
    ],
)
def test_bad_bodies_are_400_invalid_request(
    api_client: APIClient, path: str, body: dict[str, str]
) -> None:
    response = api_client.post(path, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_an_unreachable_mail_server_is_a_503_and_stores_nothing(
    api_client: APIClient, settings: Any
) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port

    response = start(api_client, "alice@example.test")

    assert response.status_code == 503
    assert not EmailCode.objects.exists()


# --- one address, one mailbox (found by an attacker review: an account takeover) -------------

DOTLESS = "v\u0131ctim.test"  # "victim" with U+0131, a domain anyone can register
DOTLESS_ASCII = "xn--vctim-n4a.test"


def _sign_in(client: APIClient, mailbox: Mailbox, address: str, mailed_to: str) -> Any:
    assert start(client, address).status_code == 202
    return verify(client, email=address, code=mailbox.code_for(mailed_to))


def test_a_look_alike_domain_never_signs_in_the_real_addresss_account(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    """PostgreSQL's UPPER turns the dotless i into I, so alice@v\u0131ctim.test once matched
    alice@victim.test while its code went to the look-alike domain's mailbox."""
    victim = _sign_in(api_client, mailbox, "alice@victim.test", "alice@victim.test")
    assert victim.status_code == 200

    attacker = _sign_in(api_client, mailbox, f"alice@{DOTLESS}", f"alice@{DOTLESS_ASCII}")

    assert attacker.status_code == 200  # a sign-up of the look-alike address, its own user
    assert attacker.json()["user"]["id"] != victim.json()["user"]["id"]
    assert attacker.json()["user"]["email"] == f"alice@{DOTLESS_ASCII}"
    assert str(mailbox.messages[-1]["To"]) == f"alice@{DOTLESS_ASCII}"


def test_a_look_alike_sign_up_first_never_captures_the_real_address(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    early = _sign_in(api_client, mailbox, f"carol@{DOTLESS}", f"carol@{DOTLESS_ASCII}")
    real = _sign_in(api_client, mailbox, "carol@victim.test", "carol@victim.test")

    assert early.status_code == real.status_code == 200
    assert real.json()["user"]["id"] != early.json()["user"]["id"]
    assert real.json()["user"]["email"] == "carol@victim.test"


def test_an_address_in_unicode_and_in_ascii_is_one_identity(
    api_client: APIClient, mailbox: Mailbox
) -> None:
    """The same mailbox spelled two ways (IDNA: b\u00fccher.test is xn--bcher-kva.test)."""
    first = _sign_in(api_client, mailbox, "Max@B\u00fccher.test", "max@xn--bcher-kva.test")
    again = _sign_in(api_client, mailbox, "max@xn--bcher-kva.test", "max@xn--bcher-kva.test")

    assert first.status_code == again.status_code == 200
    assert again.json()["user"]["id"] == first.json()["user"]["id"]


def test_an_address_whose_domain_mail_cannot_reach_is_a_400(api_client: APIClient) -> None:
    answered = start(api_client, "alice@exa..mple.test")
    assert answered.status_code == 400
    assert answered.json()["code"] == "invalid_request"


@pytest.mark.parametrize(
    "address",
    [
        "\u017fam@victim.test",  # long s: Django would mail an RFC 2047 encoded word
        "\u0130" * 126 + "@x.test",  # lower-cases to 252 characters, beyond the column
        '"alice"@victim.test',  # alice@'s mailbox spelled another way
        "a" * 150 + "@" + ".".join(["\u4e2d\u6587" * 6] * 3) + ".test",  # punycode too long
    ],
    ids=["non-ASCII local part", "grows when lower-cased", "quoted", "long punycode"],
)
def test_an_address_that_is_not_one_plain_mailbox_is_a_400(
    api_client: APIClient, mailbox: Mailbox, address: str
) -> None:
    """Found by a review of the canonical form: each was a code kept under one address and
    mailed to another, a second identity for one mailbox, or a 500."""
    answered = start(api_client, address)
    assert answered.status_code == 400
    assert answered.json()["code"] == "invalid_request"
    assert mailbox.messages == []

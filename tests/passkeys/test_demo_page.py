"""``GET /`` serves the demo page with its plainly labelled controls and a strict CSP."""

from __future__ import annotations

from django.test import Client


def test_the_demo_page_labels_its_controls_in_plain_words(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for words in ("Username", "Register passkey", "Sign in with passkey", "Email", "Send code"):
        assert words in html
    assert "/static/passkeys/demo.js" in html


def test_the_demo_page_runs_only_its_own_script(client: Client) -> None:
    response = client.get("/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.content.decode()  # no inline code


def test_the_demo_script_and_stylesheet_are_served(client: Client) -> None:
    script = client.get("/static/passkeys/demo.js")
    style = client.get("/static/passkeys/demo.css")

    assert script.status_code == style.status_code == 200
    body = b"".join(script.streaming_content)  # type: ignore[attr-defined]
    assert b"navigator.credentials.create" in body

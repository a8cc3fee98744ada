"""``createsuperuser --noinput`` judges DJANGO_SUPERUSER_PASSWORD by the password validators."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from authcore.models import User

pytestmark = pytest.mark.django_db


def create(monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", password)
    call_command(
        "createsuperuser",
        interactive=False,
        username="root",
        email="root@example.test",
        stdout=StringIO(),
        stderr=StringIO(),
    )


@pytest.mark.parametrize("weak", ["qwerty123", "12345678", "xyz"])
def test_a_weak_superuser_password_from_the_environment_is_refused(monkeypatch, weak):
    with pytest.raises(CommandError) as refused:
        create(monkeypatch, weak)
    assert "DJANGO_SUPERUSER_PASSWORD" in str(refused.value)
    assert weak not in str(refused.value)
    assert not User.objects.filter(username="root").exists()


def test_a_strong_superuser_password_from_the_environment_creates_the_account(monkeypatch):
    create(monkeypatch, "a long admin passphrase 93")
    root = User.objects.get(username="root")
    assert root.is_superuser and root.check_password("a long admin passphrase 93")

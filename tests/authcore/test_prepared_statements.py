"""PostgreSQL plans a hot query once per connection (prepared statements), unless the operator
turns it off for a connection pooler that cannot follow them (docs/operations.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from authcore.models import User

pytestmark = pytest.mark.django_db


def _prepared_here() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def test_a_query_run_again_and_again_is_prepared_once() -> None:
    before = _prepared_here()
    for _ in range(6):  # psycopg prepares from the 5th run on a connection
        assert not User.objects.filter(username="nobody-at-all").exists()
    assert _prepared_here() > before


def _options(**environment: str) -> str:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "o = settings.DATABASES['default']['OPTIONS']; "
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "authcore.settings", **environment},
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip()


def test_the_operator_can_turn_them_off() -> None:
    assert _options() == "True 5"
    assert _options(DATABASE_PREPARED_STATEMENTS="false") == "None None"

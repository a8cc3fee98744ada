"""Starting the service with a given environment, as an operator does: production refuses weak or
missing secrets and names the variable; test and development generate what they need."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

pytestmark = pytest.mark.slow

SECRET_VARIABLES = (
    "DJANGO_SECRET_KEY",
    "JWT_SECRET",
    "CSRF_SIGNING_SECRET",
    "SESSION_SIGNING_SECRET",
)
START = "import django; django.setup(); from authcore.wsgi import application; print('started')"


def strong_secrets() -> dict[str, str]:
    return {name: secrets.token_urlsafe(48) for name in SECRET_VARIABLES}


def start(environment: dict[str, str], script: str = START) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SECRET_VARIABLES and not key.startswith(("RATE_LIMIT_", "CORS_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="authcore.settings", **environment)
    return subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=Path(django_settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_starts_with_strong_secrets():
    result = start({"APP_ENVIRONMENT": "production", **strong_secrets()})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "started" in result.stdout


@pytest.mark.parametrize("variable", SECRET_VARIABLES)
def test_production_refuses_to_start_without_a_secret_and_names_it(variable):
    environment = {"APP_ENVIRONMENT": "production", **strong_secrets()}
    del environment[variable]
    result = start(environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{variable} must be set" in result.stderr


@pytest.mark.parametrize("variable", SECRET_VARIABLES)
def test_production_refuses_a_weak_secret_and_names_it(variable):
    environment = {"APP_ENVIRONMENT": "production", **strong_secrets(), variable: "changeme123"}
    result = start(environment)
    assert result.returncode != 0
    assert f"{variable} is too weak" in result.stderr
    assert "changeme123" not in result.stderr  # the refusal does not echo the secret


def test_the_test_environment_starts_with_generated_secrets():
    result = start({"APP_ENVIRONMENT": "test"})
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_wildcard_cors_origin_refuses_to_start():
    result = start({"APP_ENVIRONMENT": "test", "CORS_ALLOWED_ORIGINS": "https://a.example,*"})
    assert result.returncode != 0
    assert "CORS_ALLOWED_ORIGINS" in result.stderr


def test_a_malformed_rate_limit_refuses_to_start():
    result = start({"APP_ENVIRONMENT": "test", "RATE_LIMIT_AUTH": "five per hour"})
    assert result.returncode != 0
    assert "five per hour" in result.stderr


# What the garbage collector still scans once the served application is built: the number of
# frozen objects, of tracked ones, and whether the URL configuration's list is among the latter.
HEAP = (
    START.removesuffix("; print('started')")
    + "; import gc, authcore.urls as urls; tracked = gc.get_objects()"
    + "; print(gc.get_freeze_count(), len(tracked), any(o is urls.urlpatterns for o in tracked))"
)


def test_the_served_application_leaves_its_startup_heap_out_of_every_collection():
    """A full collection scans every tracked object with the worker's threads stopped; the
    app's startup heap (apps, libraries, every view module the URL configuration imports)
    lives as long as the process, so ``authcore.wsgi`` freezes it once loaded."""
    result = start({"APP_ENVIRONMENT": "test"}, HEAP)
    assert result.returncode == 0, result.stderr[-2000:]
    frozen, tracked, urlconf_tracked = result.stdout.split()[-3:]
    assert int(frozen) > 50_000
    assert int(tracked) < 1_000
    assert urlconf_tracked == "False"  # loaded before the freeze, as the first request would


@pytest.mark.parametrize("value", ["lb.internal", "10.0.0.0/33", "10.0.0.1,unix-socket"])
def test_a_malformed_trusted_proxy_refuses_to_start_and_names_it(value):
    result = start({"TRUSTED_PROXIES": value})
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr


def test_trusted_proxies_may_name_the_unix_socket_peer():
    result = start({"TRUSTED_PROXIES": "10.0.0.0/8, unix"})
    assert result.returncode == 0, result.stderr[-2000:]


# A request to a host named second in a list written with spaces, and the audiences read.
SPACED_LISTS = (
    START.removesuffix("; print('started')")
    + "; from django.test import Client; from django.conf import settings"
    + "; print(Client(HTTP_HOST='api.example').get('/healthz').status_code)"
    + "; print(Client(HTTP_HOST='api.example', HTTP_ORIGIN='https://b.example')"
    + ".options('/api/tokens', HTTP_ACCESS_CONTROL_REQUEST_METHOD='POST')"
    + ".headers.get('Access-Control-Allow-Origin'))"
    + "; print(','.join(settings.OIDC_BEARER_AUDIENCES))"
)


def test_comma_separated_variables_may_have_spaces_after_the_commas():
    """``ALLOWED_HOSTS="localhost, api.example"``: every item counts as written, without its
    spaces (django-environ kept ``" api.example"``, and that host got 400 on every request)."""
    result = start(
        {
            "APP_ENVIRONMENT": "test",
            "ALLOWED_HOSTS": "localhost, api.example",
            "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example,",
            "OIDC_BEARER_AUDIENCES": "aud1, aud2",
        },
        SPACED_LISTS,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    status, allowed_origin, audiences = result.stdout.split()[-3:]
    assert status == "200"
    assert allowed_origin == "https://b.example"
    assert audiences == "aud1,aud2"


@pytest.mark.parametrize(
    ("environment", "limits"),
    [("development", ("1000/15m", "60/1h")), ("production", ("100/15m", "5/1h"))],
)
def test_the_startup_log_says_which_rate_limits_apply(environment, limits):
    result = start({"APP_ENVIRONMENT": environment, **strong_secrets(), "LOG_FORMAT": "json"})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if '"rate_limits"' in line]
    assert len(lines) == 1, result.stderr[-2000:]
    assert f'"global": "{limits[0]}"' in lines[0]
    assert f'"auth": "{limits[1]}"' in lines[0]

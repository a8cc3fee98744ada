"""The Docker files, checked without a Docker engine: the compose file's services, commands and
environment against the settings, and the Dockerfile's install and runtime rules."""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings

from tests.authcore.test_configuration_docs import settings_variables

DOCKER = Path(settings.BASE_DIR) / "docker"


def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_runs_postgres_redis_web_and_a_worker_with_beat():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["web"]["build"]["dockerfile"] == "docker/Dockerfile"
    assert "gunicorn authcore.wsgi:application" in " ".join(services["web"]["command"])
    assert "migrate" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:5] == ["celery", "-A", "authcore", "worker", "-B"]


def test_every_variable_compose_gives_the_app_is_a_real_setting():
    services = compose()["services"]
    real = settings_variables()
    for name in ("web", "worker"):
        environment = services[name]["environment"]
        assert environment["APP_ENVIRONMENT"] == "production"
        unknown = set(environment) - real
        assert not unknown, f"{name} sets variables settings.py never reads: {sorted(unknown)}"


def test_web_and_worker_share_one_configuration_on_postgres_and_redis():
    services = compose()["services"]
    web, worker = services["web"]["environment"], services["worker"]["environment"]
    assert web == worker
    assert (
        web["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in web["DATABASE_URL"]
    )
    assert web["REDIS_URL"] == "redis://redis:6379/0"
    for secret in (
        "DJANGO_SECRET_KEY",
        "JWT_SECRET",
        "CSRF_SIGNING_SECRET",
        "SESSION_SIGNING_SECRET",
    ):
        assert web[secret].startswith(f"${{{secret}:?"), f"{secret} must be required, not defaulted"


def test_the_image_installs_hash_checked_and_runs_gunicorn_as_a_non_root_user():
    dockerfile = (DOCKER / "Dockerfile").read_text()
    lines = [line.strip() for line in dockerfile.splitlines()]
    assert next(line for line in lines if line.startswith("FROM")) == "FROM python:3.11-slim"
    assert "pip install --require-hashes -r requirements/lock.txt" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    user_lines = [line for line in lines if line.startswith("USER ")]
    assert user_lines and user_lines[-1] not in {"USER root", "USER 0"}
    assert dockerfile.index(user_lines[-1]) < dockerfile.index("CMD [")
    assert '"gunicorn", "authcore.wsgi:application", "-c", "docker/gunicorn.conf.py"' in dockerfile
    assert 'worker_class = "gthread"' in (DOCKER / "gunicorn.conf.py").read_text()


def test_compose_serves_with_the_images_gunicorn_settings():
    command = " ".join(compose()["services"]["web"]["command"])
    assert "gunicorn authcore.wsgi:application -c docker/gunicorn.conf.py" in command


def test_the_build_context_leaves_local_secrets_and_environments_out():
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert {".secrets", ".venv", ".services", ".git"} <= set(ignored)

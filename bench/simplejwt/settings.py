"""Settings of the simplejwt competitor: stock DRF + simplejwt, RS256, blacklist app.

One deliberate deviation from a stock project: the password hasher is a keyed SHA-256
(``bench.simplejwt.hashers``), the same kind of check Authcore does on a 256-bit user secret.
With Django's default PBKDF2 (~6 checks/s per core) the issue row would measure PBKDF2, not
simplejwt.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

env = environ.Env()

SECRET_KEY = env.str("BENCH_DJANGO_SECRET_KEY", default="bench-simplejwt-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "bench.simplejwt",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "bench.simplejwt.urls"
WSGI_APPLICATION = "bench.simplejwt.wsgi.application"
DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = 600
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
PASSWORD_HASHERS = ["bench.simplejwt.hashers.KeyedSha256Hasher"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}

_private_pem = Path(env.str("BENCH_PRIVATE_KEY_FILE")).read_bytes()
_public_pem = (
    load_pem_private_key(_private_pem, None)
    .public_key()
    .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
)
SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "SIGNING_KEY": _private_pem.decode(),
    "VERIFYING_KEY": _public_pem.decode(),
    "AUDIENCE": "bench",
    "ISSUER": "http://bench-simplejwt.test",
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=1),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    # Every access token is checked against the blacklist table: one query per request.
    "AUTH_TOKEN_CLASSES": ("bench.simplejwt.tokens.BlacklistCheckedAccessToken",),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": os.environ.get("LOG_LEVEL", "WARNING")},
}

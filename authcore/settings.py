"""Authcore settings: the only module that reads the environment.

Every variable is documented in ``docs/configuration.md`` and checked against this module by
``tests/authcore/test_configuration_docs.py``. Apps read through their ``app_settings.py``.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from authcore.client_ip import trusted_network

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

APP_ENVIRONMENT: str = env.str("APP_ENVIRONMENT", default="development")
if APP_ENVIRONMENT not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"APP_ENVIRONMENT must be development, test or production, not {APP_ENVIRONMENT!r}"
    )
IS_DEVELOPMENT = APP_ENVIRONMENT == "development"
IS_PRODUCTION = APP_ENVIRONMENT == "production"

# Secrets shorter than this are refused in production (32 bytes of entropy, hex or base64).
MIN_SECRET_LENGTH = 32
_WEAK_SECRETS = {"changeme", "secret", "password", "django-insecure", "development"}


def _list(name: str, default: list[str]) -> list[str]:
    """A comma-separated variable's items, stripped, empty ones dropped: ``"a, b,"`` is
    ``["a", "b"]`` (django-environ keeps the spaces, and `` api.example`` matches no host)."""
    return [item.strip() for item in env.list(name, default=default) if item.strip()]


def _secret(name: str) -> str:
    """A secret from the environment; generated outside production, refused there if weak."""
    value: str = env.str(name, default="")
    if IS_PRODUCTION:
        if not value:
            raise ImproperlyConfigured(f"{name} must be set when APP_ENVIRONMENT=production")
        lowered = value.lower()
        if len(value) < MIN_SECRET_LENGTH or any(weak in lowered for weak in _WEAK_SECRETS):
            raise ImproperlyConfigured(
                f"{name} is too weak: use at least {MIN_SECRET_LENGTH} random characters"
            )
    return value or _generated_secret(name)


def _generated_secret(name: str) -> str:
    """Development/test: a secret stable across processes of one checkout.

    Stored in ``.secrets/`` (git-ignored) so that several gunicorn workers, the Celery worker
    and a restarted ``make run`` agree on the key-encryption and signing secrets.
    """
    folder = BASE_DIR / ".secrets"
    path = folder / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        folder.mkdir(mode=0o700, exist_ok=True)
        value = secrets.token_urlsafe(48)
        try:
            with open(path, "x") as handle:
                handle.write(value)
        except FileExistsError:  # another process won the race: use its value
            return path.read_text().strip()
        path.chmod(0o600)
        return value


SECRET_KEY = _secret("DJANGO_SECRET_KEY")
JWT_SECRET = _secret("JWT_SECRET")
CSRF_SIGNING_SECRET = _secret("CSRF_SIGNING_SECRET")
SESSION_SIGNING_SECRET = _secret("SESSION_SIGNING_SECRET")

DEBUG = False

API_BASE_URL: str = env.str("API_BASE_URL", default="http://localhost:8000").rstrip("/")
_base = urlsplit(API_BASE_URL)
if _base.scheme not in {"http", "https"} or not _base.hostname:
    raise ImproperlyConfigured("API_BASE_URL must be an absolute http(s) URL")
API_ORIGIN = f"{_base.scheme}://{_base.netloc}"
API_RP_ID: str = env.str("API_RP_ID", default=_base.hostname)
APP_ID: str = env.str("APP_ID", default="authcore-dev")

ALLOWED_HOSTS: list[str] = _list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
if _base.hostname not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_base.hostname)

MASTER_USERNAME: str = env.str("MASTER_USERNAME", default="")
MASTER_PASSWORD: str = env.str("MASTER_PASSWORD", default="")
if IS_PRODUCTION and MASTER_PASSWORD and len(MASTER_PASSWORD) < 16:
    # Unset disables client creation; set, it guards every client: refuse a guessable one.
    raise ImproperlyConfigured("MASTER_PASSWORD is too weak: use at least 16 random characters")
CLIENT_API_KEY: str = env.str("CLIENT_API_KEY", default="")

_default_cors = [
    API_ORIGIN,
    "https://auth.privy.io",
    "https://console.privy.io",
    "http://localhost:3000",
]
CORS_ALLOWED_ORIGINS: list[str] = [
    origin.rstrip("/") for origin in _list("CORS_ALLOWED_ORIGINS", default=_default_cors)
]
if "*" in CORS_ALLOWED_ORIGINS:
    raise ImproperlyConfigured("CORS_ALLOWED_ORIGINS must list origins; '*' is never allowed")
if API_ORIGIN not in CORS_ALLOWED_ORIGINS:
    CORS_ALLOWED_ORIGINS.append(API_ORIGIN)
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-api-key",
    "x-csrf-token",
    "x-request-id",
)
CORS_EXPOSE_HEADERS = (
    "x-request-id",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
)

TRUSTED_PROXIES: list[str] = _list("TRUSTED_PROXIES", default=[])
for _entry in TRUSTED_PROXIES:
    try:
        trusted_network(_entry)
    except ValueError:
        raise ImproperlyConfigured(
            f"TRUSTED_PROXIES: {_entry.strip()!r} is not an IP address, a CIDR or 'unix'"
        ) from None

_strict = not IS_DEVELOPMENT
RATE_LIMIT_GLOBAL: str = env.str("RATE_LIMIT_GLOBAL", default="100/15m" if _strict else "1000/15m")
RATE_LIMIT_AUTH: str = env.str("RATE_LIMIT_AUTH", default="5/1h" if _strict else "60/1h")

JWT_KEY_ROTATION_HOURS: float = env.float("JWT_KEY_ROTATION_HOURS", default=24)
JWT_KEY_TTL_HOURS: float = env.float("JWT_KEY_TTL_HOURS", default=48)
JWT_KEY_PUBLISH_AHEAD_MINUTES: float = env.float("JWT_KEY_PUBLISH_AHEAD_MINUTES", default=60)
if JWT_KEY_PUBLISH_AHEAD_MINUTES > JWT_KEY_ROTATION_HOURS * 60:
    raise ImproperlyConfigured("JWT_KEY_PUBLISH_AHEAD_MINUTES may not exceed the rotation period")

TOKEN_DEFAULT_TTL: int = env.int("TOKEN_DEFAULT_TTL", default=2_592_000)
TOKEN_MAX_TTL: int = env.int("TOKEN_MAX_TTL", default=7_776_000)
PASSKEY_TOKEN_TTL: int = env.int("PASSKEY_TOKEN_TTL", default=3600)
SESSION_MAX_AGE: int = env.int("SESSION_MAX_AGE", default=3600)

try:
    OIDC_PROVIDERS: list[dict[str, object]] = json.loads(env.str("OIDC_PROVIDERS", default="[]"))
except json.JSONDecodeError as error:
    raise ImproperlyConfigured(f"OIDC_PROVIDERS is not valid JSON: {error.msg}") from error
if not isinstance(OIDC_PROVIDERS, list):
    raise ImproperlyConfigured("OIDC_PROVIDERS must be a JSON list")
OIDC_BEARER_AUDIENCES: list[str] = _list(
    "OIDC_BEARER_AUDIENCES",
    default=[str(p.get("client_id", "")) for p in OIDC_PROVIDERS if isinstance(p, dict)],
)

LOG_LEVEL: str = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT: str = env.str("LOG_FORMAT", default="console" if IS_DEVELOPMENT else "json")

# --- Django -------------------------------------------------------------------------------

INSTALLED_APPS = [
    # First: its management commands take precedence over Django's (createsuperuser).
    "authcore",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, no CDN
    "tokens",
    "clients",
    "passkeys",
    "sessions_app",
]

MIDDLEWARE = [
    # Request id, security headers, request metrics and JSON errors, in one layer.
    "authcore.middleware.edge.EdgeMiddleware",
    # CORS before the rate limit, so a browser can read a cross-origin 429.
    "authcore.middleware.cors.CorsMiddleware",
    "authcore.middleware.rate_limit.RateLimitMiddleware",
    # No CommonMiddleware: EdgeMiddleware makes its ALLOWED_HOSTS check (see its docstring).
    # WhiteNoise under STATIC_URL, and Django's Session, Csrf, Authentication and Message
    # middlewares under /admin/ only (the API never reads request.session or request.user).
    "authcore.middleware.admin.AdminOnlyMiddleware",
]
# The admin's checks look for Session/Authentication/Message middleware by name in MIDDLEWARE;
# AdminOnlyMiddleware runs exactly those for /admin/ (see its docstring).
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]

ROOT_URLCONF = "authcore.urls"
WSGI_APPLICATION = "authcore.wsgi.application"
AUTH_USER_MODEL = "authcore.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Persistent connections: a protected request must not pay a TCP+auth handshake.
    DATABASES["default"].setdefault("CONN_MAX_AGE", 600)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Django's backend, but a connection proven by the previous request less than 0.5 s ago
    # skips the health check's SELECT 1 round trip (authcore/db/postgresql/base.py).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "authcore.db.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
    # Prepared statements: PostgreSQL parses and plans each hot query once per connection
    # instead of on every request (psycopg prepares a query from its 5th run on a connection;
    # that needs server-side parameter binding). Django leaves them off for connection
    # poolers in transaction mode; set DATABASE_PREPARED_STATEMENTS=false behind such a pooler
    # unless it tracks prepared statements (PgBouncer >= 1.21 with max_prepared_statements).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
    # Several test runs may share one PostgreSQL (helpers, CI): suffix the test database.
    _suffix = env.str("AUTHCORE_TEST_DB_SUFFIX", default="")
    if _suffix:
        DATABASES["default"]["TEST"] = {"NAME": f"test_authcore_{_suffix}"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL: str = env.str("REDIS_URL", default="")
# Every Redis key this deployment writes starts with this prefix (tests give each run its own).
REDIS_KEY_PREFIX: str = env.str("AUTHCORE_REDIS_PREFIX", default="authcore")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "authcore-default",
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"  # admin sessions only
SESSION_COOKIE_SECURE = IS_PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = IS_PRODUCTION
# The admin belongs to Authcore's own origin alone. Django's CSRF check (admin-only here)
# trusts no other origin, and CORS answers nothing under /admin/ or /static/: a page of an
# allowed web app (same-site, so the admin's cookies ride along) must neither read an admin
# page (its CSRF token, a key shown once) nor post an admin form.
CSRF_TRUSTED_ORIGINS = [API_ORIGIN]
CORS_URLS_REGEX = r"^/(?!admin(/|$)|static/)"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Oversized bodies are refused with 413 JSON (authcore.middleware.errors).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves admin assets from here or the finders
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = IS_DEVELOPMENT
# Browsers keep static files (the admin's, the demo page's) ten minutes: each fetch counts
# against RATE_LIMIT_GLOBAL (authcore/middleware/admin.py). Not longer: their names carry no
# content hash, so after a deploy a browser may run the old script for that long.
WHITENOISE_MAX_AGE = 0 if IS_DEVELOPMENT else 600

# --- Mail ---------------------------------------------------------------------------------

EMAIL_URL: str = env.str("EMAIL_URL", default="consolemail://")
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL: str = env.str("DEFAULT_FROM_EMAIL", default="no-reply@localhost")

# --- REST framework -----------------------------------------------------------------------

REST_FRAMEWORK = {
    # "Bearer or session" everywhere a user acts: Authcore tokens (and provider-issued JWTs,
    # told apart by iss), then the browser-session cookie with its CSRF check.
    # The provider class first: it takes exactly the Bearer JWTs of configured providers
    # (exact issuer, well-formed entry), and Authcore's class every other Bearer token, so no
    # token falls between the two (a forgery is always 401 invalid_token).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sessions_app.authentication.ProviderBearerAuthentication",
        "tokens.authentication.BearerTokenAuthentication",
        "sessions_app.authentication.SessionCookieAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["authcore.parsers.StrictJSONParser"],
    # One renderer: answer JSON without parsing Accept (authcore/negotiation.py).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "authcore.negotiation.SingleRendererNegotiation",
    # Escape non-ASCII in responses: an error that quotes a lone surrogate stays encodable.
    "UNICODE_JSON": False,
    "EXCEPTION_HANDLER": "authcore.exception_handler.handle_exception",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Authcore API",
    "DESCRIPTION": "Passkeys, RS256 tokens with a rotating JWKS, a client service and "
    "OpenID Connect browser sessions.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # authcore/openapi/: security schemes, error bodies, the plain-Django documents
    "DEFAULT_GENERATOR_CLASS": "authcore.openapi.generator.SchemaGenerator",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Broker keys share the store's prefix: instances or test runs with other prefixes never take
# each other's tasks (docs/operations.md).
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{REDIS_KEY_PREFIX}:celery:"}
# Tests only: beat runs rotate_keys and prune every N seconds instead of the contract's schedule.
CELERY_BEAT_INTERVAL_SECONDS: float | None = env.float("CELERY_BEAT_INTERVAL_SECONDS", default=None)

# --- Audit trail --------------------------------------------------------------------------

# `manage.py prune` deletes audit events older than this many days (docs/operations.md).
AUDIT_RETENTION_DAYS: int = env.int("AUDIT_RETENTION_DAYS", default=365)

# --- Logging ------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": "authcore.logging.build_formatter",
            "log_format": LOG_FORMAT,
        },
    },
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "formatter": "structured"},
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

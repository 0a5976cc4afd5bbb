"""Settings shared by every environment, read from the environment in one place.

The defaults need nothing installed: SQLite, Celery tasks run eagerly, e-mail printed
to the console, development keys derived locally from the secret key. Production
(`smartb.settings.production`) removes every default secret so a missing one fails at start.
"""

import base64
import hashlib
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_HASHES
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def derived_dev_key(secret: str, purpose: str) -> str:
    """A 32-byte key for local development only, derived from the secret key."""
    digest = hashlib.sha256(f"smartb-dev:{purpose}:{secret}".encode()).digest()
    return base64.b64encode(digest).decode()


SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-change-me-in-production")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Key-encryption key (AES-256-GCM) for custodial private keys, base64 of 32 bytes.
SMARTB_KEY_ENCRYPTION_KEY = env("SMARTB_KEY_ENCRYPTION_KEY") or derived_dev_key(SECRET_KEY, "kek")
# Seed (base64 of 32 bytes) of the platform validator's Ed25519 key that seals blocks.
SMARTB_VALIDATOR_KEY_SEED = env("SMARTB_VALIDATOR_KEY_SEED") or derived_dev_key(
    SECRET_KEY, "validator"
)
# Prefix of checkpoint origins: "<prefix>/<chain slug>" (C2SP tlog-checkpoint origin line).
SMARTB_LEDGER_ORIGIN = env("SMARTB_LEDGER_ORIGIN", "smartb.localhost/ledger")
# Sealing: a block is sealed when this many transactions wait, or by the periodic task.
SMARTB_SEAL_BATCH_SIZE = int(env("SMARTB_SEAL_BATCH_SIZE", "50"))
SMARTB_SEAL_PERIOD_SECONDS = int(env("SMARTB_SEAL_PERIOD_SECONDS", "60"))
# A pre-signed transaction must be submitted within this window of its created_at.
SMARTB_SIGNATURE_MAX_AGE_SECONDS = int(env("SMARTB_SIGNATURE_MAX_AGE_SECONDS", "600"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "ledger",
    "identity",
    "governance",
    "marketplace",
    "impact",
    "witnesses",
    "cooperative",
    "smartb",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "smartb.middleware.SessionTimeoutMiddleware",
    "smartb.middleware.MfaRequiredMiddleware",
    "smartb.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "smartb.urls"
WSGI_APPLICATION = "smartb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Keep connections open between requests: a one-row write runs ~4x faster here.
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing at once with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

AUTH_USER_MODEL = "identity.User"
SITE_ID = 1
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "identity:profile"
LOGOUT_REDIRECT_URL = "home"

# django-allauth: e-mail addresses as logins.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_LOGOUT_ON_GET = False

# --- Login hardening -------------------------------------------------------------------
# Brute force: 5 failed logins for one typed e-mail within 15 minutes lock that e-mail out,
# right password included, until the oldest failure is 15 minutes old; 10 failures a minute
# lock an IP out. Keyed on what was typed, account or not: a lockout tells nothing about
# whether an account exists. Wrong authenticator codes count the same way, per account.
ACCOUNT_RATE_LIMITS = {"login_failed": env("SMARTB_LOGIN_FAILED_RATE", "10/m/ip,5/15m/key")}
# Changing an e-mail address or a password, managing MFA: type the password (or a code)
# again when the last proof is older than this.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = int(env("SMARTB_REAUTHENTICATION_SECONDS", "300"))
# MFA: TOTP (any authenticator app) and recovery codes. WebAuthn is not offered.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "SMART B"
MFA_TOTP_TOLERANCE = 1  # one 30 s step either side (RFC 6238's advice on clock drift)
# Municipality staff, curators and the operator (who audits) must log in with a second
# factor: smartb.middleware.MfaRequiredMiddleware sends them to its setup page first.
SMARTB_MFA_REQUIRED = env_bool("SMARTB_MFA_REQUIRED", True)
# Sessions end after this long without a request (idle) and this long after the login
# (absolute), whatever happens in between.
SMARTB_SESSION_IDLE_SECONDS = int(env("SMARTB_SESSION_IDLE_SECONDS", "1800"))
SMARTB_SESSION_MAX_SECONDS = int(env("SMARTB_SESSION_MAX_SECONDS", "43200"))
SESSION_COOKIE_AGE = SMARTB_SESSION_MAX_SECONDS
# The cache holds the login rate limits and the TOTP codes already used: app servers must
# share it (Redis, e.g. redis://redis:6379/1), or each process counts failures on its own.
CACHE_URL = env("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Content-Security-Policy (django-csp) -----------------------------------------------
# Scripts and styles come from our own static files only: no inline script anywhere (htmx
# injects no <style>: includeIndicatorStyles is off in base.html). Two exceptions, each one
# exact text allowed by its hash: the <style> block of drf-spectacular's Swagger UI page
# (/api/docs/; tests/security/test_headers.py recomputes it from the installed template)
# and the `style="align-self: flex-end"` of some filter buttons (style-src-attr only).
SMARTB_CSP_SWAGGER_UI_STYLE = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
SMARTB_CSP_STYLE_ATTRIBUTES = ["'sha256-zRr/NxTeHNw5XMHFDdCCIxiXyqot569N+XnVTvJPEYk='"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, SMARTB_CSP_SWAGGER_UI_STYLE],
        "style-src-attr": [UNSAFE_HASHES, *SMARTB_CSP_STYLE_ATTRIBUTES],
        "img-src": [SELF, "data:"],  # data: for the TOTP QR code and the empty favicon
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "SMART B <no-reply@smartb.localhost>")
# The public address of the site, for links in e-mails (sent by Celery, outside any request).
SMARTB_SITE_URL = env("SMARTB_SITE_URL", "http://127.0.0.1:8000")

REST_FRAMEWORK = {
    # Token first: an unauthenticated API call gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "smartb.api.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "smartb.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SMART B API",
    "DESCRIPTION": "Civic platform for a network of smart cities: identity, signed city ledgers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: no CDN needed.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several components have a `kind` field with their own values: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "AuditKindEnum": "marketplace.models.AuditKind",
        "TaskKindEnum": "marketplace.models.TaskKind",
    },
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND")
# Without a broker every task runs in-process, at once: nothing to install for a demo.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "smartb")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TIMEZONE = TIME_ZONE
# The account SEPA transfers of data invoices pay into (marketplace.data.sepa). Outside
# production: a published test IBAN, never a real account; production requires all three.
SMARTB_DATA_CREDITOR_NAME = env("SMARTB_DATA_CREDITOR_NAME", "SMART B (développement)")
SMARTB_DATA_CREDITOR_IBAN = env("SMARTB_DATA_CREDITOR_IBAN", "FR7630006000011234567890189")
# Empty: the BIC of the IBAN's bank, from its bank code (schwifty's registry).
SMARTB_DATA_CREDITOR_BIC = env("SMARTB_DATA_CREDITOR_BIC", "")
# Each city sets its own account (its staff, marketplace.data.models.CreditorAccount); may a
# city without one be paid into the account above? Yes outside production; no in production.
SMARTB_DATA_CREDITOR_FALLBACK = env_bool("SMARTB_DATA_CREDITOR_FALLBACK", True)

CELERY_BEAT_SCHEDULE = {
    # Tasks the broker could not take when their change committed (smartb.outbox).
    "smartb-relay-outbox": {"task": "smartb.tasks.relay_outbox", "schedule": 60.0},
    "ledger-seal-due-chains": {
        "task": "ledger.tasks.seal_due_chains",
        "schedule": float(SMARTB_SEAL_PERIOD_SECONDS),
    },
    # Cities witness each other's checkpoints (fetch, check consistency, cosign).
    "witnesses-witness-all": {
        "task": "witnesses.tasks.witness_all",
        "schedule": 60.0,
    },
    "governance-close-due-proposals": {
        "task": "governance.tasks.close_due_proposals",
        "schedule": 60.0,
    },
    # At a fixed local time (CELERY_TIMEZONE), not 24 h after beat last started: 07:00 in
    # Paris, summer and winter alike.
    "governance-send-daily-digests": {
        "task": "governance.tasks.send_daily_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    # Purge requests are re-sent until the consumer acknowledges them.
    "data-resend-stale-purges": {
        "task": "marketplace.data.tasks.resend_stale_purges",
        "schedule": crontab(minute=15),
    },
    "data-issue-due-invoices": {
        "task": "marketplace.data.tasks.issue_due_invoices",
        "schedule": crontab(hour=2, minute=30),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

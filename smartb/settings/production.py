"""Production settings: every secret comes from the environment, none has a default.

A missing DJANGO_SECRET_KEY, SMARTB_KEY_ENCRYPTION_KEY, SMARTB_VALIDATOR_KEY_SEED,
SMARTB_DATA_KEK or DATABASE_URL stops the process at start with a KeyError naming the variable.
"""

import os

import dj_database_url

from .base import *  # noqa: F403
from .base import env, env_bool, env_list

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
SMARTB_KEY_ENCRYPTION_KEY = os.environ["SMARTB_KEY_ENCRYPTION_KEY"]
SMARTB_VALIDATOR_KEY_SEED = os.environ["SMARTB_VALIDATOR_KEY_SEED"]
SMARTB_DATA_KEK = os.environ["SMARTB_DATA_KEK"]  # wraps the data keys of hosted datasets
# Where SEPA transfers of data invoices are paid: no development default in production.
SMARTB_DATA_CREDITOR_NAME = os.environ["SMARTB_DATA_CREDITOR_NAME"]
SMARTB_DATA_CREDITOR_IBAN = os.environ["SMARTB_DATA_CREDITOR_IBAN"]
SMARTB_DATA_CREDITOR_BIC = os.environ["SMARTB_DATA_CREDITOR_BIC"]
# A city is paid into its own account: no transfer file for a city that has not set one,
# unless the deployment collects for its cities (SMARTB_DATA_CREDITOR_FALLBACK=true).
SMARTB_DATA_CREDITOR_FALLBACK = env_bool("SMARTB_DATA_CREDITOR_FALLBACK", False)
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=600, conn_health_checks=True
    )
}

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
LANGUAGE_COOKIE_SECURE = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"

# MFA cannot be switched off in production (base.py reads SMARTB_MFA_REQUIRED for tests).
SMARTB_MFA_REQUIRED = True
# Behind this many reverse proxies (SECURE_PROXY_SSL_HEADER assumes one): allauth reads the
# client's IP from X-Forwarded-For for its per-IP rate limits, not the proxy's own address.
ALLAUTH_TRUSTED_PROXY_COUNT = int(env("SMARTB_TRUSTED_PROXY_COUNT", "1"))
# Rate limits and used TOTP codes must be shared by every app server: CACHE_URL, or else the
# broker's Redis.
CACHE_URL = env("CACHE_URL") or env("CELERY_BROKER_URL")
if CACHE_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }

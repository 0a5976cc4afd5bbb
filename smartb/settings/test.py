"""Settings for the test suite: the base settings, faster password hashing."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_RATE_LIMITS = False
# The suite logs staff in with force_login, without a second factor; tests/security and
# tests/e2e/test_security.py switch this on to test the MFA requirement itself.
SMARTB_MFA_REQUIRED = False
# Tasks run in-process unless a test starts a real worker (tests/test_celery_worker.py).
CELERY_TASK_ALWAYS_EAGER = True
WHITENOISE_AUTOREFRESH = True
# Encrypted dataset files written by tests (and by seed_demo inside tests) go to a throwaway
# directory, never to the working tree's media/.
import tempfile  # noqa: E402

SMARTB_DATA_ROOT = tempfile.mkdtemp(prefix="smartb-test-data-")

"""Settings of the Celery workers the fault tests start and kill (never of the test process).

The test settings, plus: tasks the worker queues go to the broker (not run in-process), the
pause hook of `smartb.outbox.fault_pause` on, and a broker that hands a message whose worker
died to the next worker after 2 seconds instead of an hour (Redis has no acknowledgement: an
unacknowledged message comes back when its visibility timeout expires)."""

import os

from smartb.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
SMARTB_FAULT_PAUSE_DIR = os.environ.get("SMARTB_FAULT_PAUSE_DIR")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

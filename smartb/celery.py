"""The Celery application. Tasks run eagerly unless CELERY_BROKER_URL is set.

Beat's periodic tasks are `CELERY_BEAT_SCHEDULE` in the settings; crontab entries (the daily
digest at 07:00) are read in `CELERY_TIMEZONE`, the site's Europe/Paris, summer and winter.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartb.settings.base")

app = Celery("smartb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Sub-packages are not apps, so autodiscovery does not look in them.
app.autodiscover_tasks(["marketplace.data"])

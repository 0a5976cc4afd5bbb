"""Every periodic task names a task the worker knows: a typo would only show in production."""

from smartb.celery import app


def test_every_beat_entry_is_a_registered_task(settings):
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)
    assert "marketplace.data.tasks.resend_stale_purges" in scheduled

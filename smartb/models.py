"""Tables of the project itself (not of one app): the transactional outbox."""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):
    """A Celery task owed by a committed state change (see `smartb.outbox`).

    Written in the same database transaction as the change, so the task exists if and only
    if the change does; published to the broker after commit (again by beat while the broker
    is unreachable); marked done by the task in the transaction of its effect, so a message
    delivered twice does its work once."""

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    publish_attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending_idx",
                condition=models.Q(done_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} #{self.pk}"

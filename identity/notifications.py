"""Delivering e-mail notices to accounts, once each: at once, or in a daily digest.

A `Notification` row is written before anything is sent and marked when the e-mail leaves,
so a retried task never sends twice. What to say and to whom is decided by the app that
notifies (e.g. `governance.notifications`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Notification, NotificationMode, User

MESSAGE_LANGUAGE = "fr"


def notifications_send(*, users: Iterable[User], key: str, subject: str, body: str) -> int:
    """Owe `users` the notice `key`; e-mail it now to those in immediate mode, keep it for
    the digest of the others. Returns the number of e-mails sent by this call."""
    rows = [
        Notification(
            user=user,
            key=key,
            subject=subject,
            body=body,
            digest_pending=user.notification_mode == NotificationMode.DAILY_DIGEST,
        )
        for user in users
        if user.notification_mode != NotificationMode.NONE
    ]
    # A retry finds the rows of the first attempt and keeps them as they are.
    Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    due = (
        Notification.objects.filter(key=key, digest_pending=False, sent_at__isnull=True)
        .exclude(user__notification_mode=NotificationMode.NONE)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    return sum(_deliver_one(pk) for pk in list(due))


def _deliver_one(pk: int) -> int:
    # One transaction per e-mail: a crash half-way keeps the e-mails already sent marked.
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=pk, sent_at__isnull=True, digest_pending=False)
            .first()
        )
        if notification is None:
            return 0
        send_mail(notification.subject, notification.body, None, [notification.user.email])
        notification.sent_at = timezone.now()
        notification.save(update_fields=["sent_at"])
    return 1


def digest_message(notifications: list[Notification]) -> tuple[str, str]:
    with translation.override(MESSAGE_LANGUAGE):
        count = len(notifications)
        subject = ngettext(
            "SMART B: %(count)d notice today", "SMART B: %(count)d notices today", count
        ) % {"count": count}
        parts = [_("Your daily SMART B digest.")]
        for notification in notifications:
            parts.append(f"{notification.subject}\n{'-' * len(notification.subject)}")
            parts.append(notification.body)
    return subject, "\n\n".join(parts)


def daily_digests_send() -> int:
    """One e-mail per account with pending notices, gathering them all. Returns the number
    of digests sent."""
    user_ids = (
        Notification.objects.filter(digest_pending=True, sent_at__isnull=True)
        .values_list("user", flat=True)
        .distinct()
        .order_by("user")
    )
    return sum(_digest_one(user_id) for user_id in list(user_ids))


def _digest_one(user_id: int) -> int:
    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update()
            .filter(user_id=user_id, digest_pending=True, sent_at__isnull=True)
            .order_by("created_at", "pk")
        )
        if not pending:
            return 0
        user = User.objects.get(pk=user_id)
        if user.notification_mode == NotificationMode.NONE or not user.email:
            # The account turned notices off since: they are dropped, not sent later.
            Notification.objects.filter(pk__in=[n.pk for n in pending]).delete()
            return 0
        subject, body = digest_message(pending)
        send_mail(subject, body, None, [user.email])
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
            digest_pending=False, sent_at=timezone.now()
        )
    return 1

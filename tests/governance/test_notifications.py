"""E-mail notices: the electorate is told when a vote opens, the voters when it closes; once
each, even when a task is retried; at once, in a daily digest, or never, as each account
chooses on its profile page."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone, translation
from django.utils.formats import date_format

from governance.models import Proposal
from governance.tasks import notify_proposal_closed, notify_vote_opened, send_daily_digests
from identity.models import Notification, NotificationMode, User
from identity.notifications import notifications_send
from ledger.models import Transaction
from smartb.celery import app as celery_app
from tests.factories import UserFactory

from .helpers import appoint, cast, close, draft, join, open_vote, request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SMARTB_SITE_URL = "https://smartb.example/"


def set_mode(membership, mode: str) -> None:
    User.objects.filter(pk=membership.user_id).update(notification_mode=mode)


def recipients(outbox) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


def emails_of(*members) -> list[str]:
    return sorted(member.user.email for member in members)


def opened(proposal, capture) -> Proposal:
    with capture(execute=True):
        return open_vote(proposal)


def closed(proposal, capture) -> Proposal:
    with capture(execute=True):
        return close(proposal)


def test_an_open_vote_is_mailed_to_each_member_of_the_electorate_and_nobody_else(
    city,
    other_city,
    operator,
    staff,
    mayor,
    resident,
    provider,
    proposal,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    pending = request(city, "residents")
    elsewhere = join(other_city, "providers", by=appoint(other_city, operator).user)
    mailoutbox.clear()
    proposal = opened(proposal, django_capture_on_commit_callbacks)
    late = join(city, "providers", by=staff)

    assert recipients(mailoutbox) == emails_of(mayor, resident, provider)
    assert all(len(message.to) == 1 for message in mailoutbox)
    for outsider in (pending, elsewhere, late):
        assert outsider.user.email not in recipients(mailoutbox)


def test_the_open_vote_notice_names_the_proposal_its_city_closing_date_and_link(
    city, mayor, resident, provider, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = opened(proposal, django_capture_on_commit_callbacks)
    message = mailoutbox[0]
    with translation.override("fr"):
        closes = date_format(timezone.localtime(proposal.closes_at), "DATETIME_FORMAT")
    assert "Rénover le lavoir" in message.subject
    assert city.name in message.subject
    assert closes in message.body
    assert f"https://smartb.example/c/{city.slug}/p/{proposal.public_id}/" in message.body
    assert "https://smartb.example/me/" in message.body
    assert message.from_email == django_settings.DEFAULT_FROM_EMAIL


def test_a_notice_carries_no_personal_data_of_other_people(
    mayor, resident, provider, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = opened(proposal, django_capture_on_commit_callbacks)
    cast(proposal, [(mayor, "yes"), (resident, "no"), (provider, "yes")])
    closed(proposal, django_capture_on_commit_callbacks)
    for message in mailoutbox:
        others = [m for m in (mayor, resident, provider) if m.user.email not in message.to]
        text = message.subject + message.body
        for other in others:
            user = other.user
            for data in (user.email, user.last_name, other.identity.did, other.postal_address):
                assert not data or data not in text


def test_a_closed_vote_is_mailed_to_its_voters_only_with_the_outcome(
    mayor, resident, provider, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = opened(proposal, django_capture_on_commit_callbacks)
    cast(proposal, [(mayor, "yes"), (resident, "yes")])
    mailoutbox.clear()
    proposal = closed(proposal, django_capture_on_commit_callbacks)

    assert recipients(mailoutbox) == emails_of(mayor, resident)
    assert Notification.objects.filter(key=f"proposal-closed:{proposal.public_id}").count() == 2
    assert all(proposal.title in message.subject for message in mailoutbox)
    assert all(f"/p/{proposal.public_id}/" in message.body for message in mailoutbox)


def test_a_retried_task_never_sends_twice(
    mayor, resident, provider, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    proposal = opened(proposal, django_capture_on_commit_callbacks)
    cast(proposal, [(mayor, "yes")])
    proposal = closed(proposal, django_capture_on_commit_callbacks)
    sent = len(mailoutbox)

    assert notify_vote_opened.apply(args=[proposal.pk]).get() == 0
    assert notify_proposal_closed.apply(args=[proposal.pk]).get() == 0
    assert len(mailoutbox) == sent == 4
    assert Notification.objects.count() == 4


def test_a_send_that_failed_is_sent_on_retry_and_only_the_missing_ones(mailoutbox):
    users = [UserFactory(), UserFactory()]
    real_send = mail.send_mail
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise ConnectionError("SMTP down")
        return real_send(*args, **kwargs)

    with (
        mock.patch("identity.notifications.send_mail", side_effect=flaky),
        pytest.raises(ConnectionError),
    ):
        notifications_send(users=users, key="test:1", subject="Objet", body="Texte")
    assert len(mailoutbox) == 1
    assert notifications_send(users=users, key="test:1", subject="Objet", body="Texte") == 1
    assert recipients(mailoutbox) == sorted(u.email for u in users)
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_digest_mode_gathers_the_notices_in_one_daily_email(
    resident, mayor, provider, mailoutbox, django_capture_on_commit_callbacks
):
    set_mode(resident, NotificationMode.DAILY_DIGEST)
    first = opened(draft(resident), django_capture_on_commit_callbacks)
    opened(draft(resident), django_capture_on_commit_callbacks)
    cast(first, [(resident, "yes")])
    closed(first, django_capture_on_commit_callbacks)
    assert resident.user.email not in recipients(mailoutbox)
    assert Notification.objects.filter(user=resident.user, digest_pending=True).count() == 3
    mailoutbox.clear()

    assert send_daily_digests.apply().get() == 1
    assert recipients(mailoutbox) == [resident.user.email]
    digest = mailoutbox[0]
    assert "3" in digest.subject
    for notification in Notification.objects.filter(user=resident.user):
        assert notification.subject in digest.body
        assert notification.sent_at is not None and not notification.digest_pending

    assert send_daily_digests.apply().get() == 0
    assert len(mailoutbox) == 1


def test_none_mode_receives_nothing(
    resident, mayor, provider, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    set_mode(resident, NotificationMode.NONE)
    proposal = opened(proposal, django_capture_on_commit_callbacks)
    cast(proposal, [(resident, "yes")])
    closed(proposal, django_capture_on_commit_callbacks)
    send_daily_digests.apply().get()
    assert resident.user.email not in recipients(mailoutbox)
    assert not Notification.objects.filter(user=resident.user).exists()


def test_notices_waiting_for_a_digest_are_dropped_when_the_account_turns_them_off(
    resident, mayor, provider, proposal, mailoutbox, django_capture_on_commit_callbacks
):
    set_mode(resident, NotificationMode.DAILY_DIGEST)
    opened(proposal, django_capture_on_commit_callbacks)
    set_mode(resident, NotificationMode.NONE)
    mailoutbox.clear()
    assert send_daily_digests.apply().get() == 0
    assert mailoutbox == []


def digest_readers(count: int) -> list[User]:
    return [UserFactory(notification_mode=NotificationMode.DAILY_DIGEST) for _ in range(count)]


def notice(users, name: str) -> None:
    notifications_send(users=users, key=f"test:{name}", subject=f"Vote {name}", body=name * 3)


def test_a_second_digest_run_the_same_day_sends_nothing_twice(mailoutbox):
    readers = digest_readers(2)
    notice(readers, "A")
    notice(readers, "B")

    assert send_daily_digests.apply().get() == 2
    assert send_daily_digests.apply().get() == 0
    assert recipients(mailoutbox) == sorted(reader.email for reader in readers)
    assert not Notification.objects.filter(digest_pending=True).exists()
    assert not Notification.objects.filter(sent_at__isnull=True).exists()

    # A notice owed after the digest left goes in the next one, alone.
    notice(readers[:1], "C")
    assert send_daily_digests.apply().get() == 1
    latest = mailoutbox[-1]
    assert latest.to == [readers[0].email]
    assert "Vote C" in latest.body
    assert "Vote A" not in latest.body and "Vote B" not in latest.body


def test_a_digest_run_that_fails_halfway_is_retried_and_each_account_gets_one_digest(
    mailoutbox,
):
    readers = digest_readers(3)
    notice(readers, "A")
    real_send = mail.send_mail
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise ConnectionError("SMTP down")
        return real_send(*args, **kwargs)

    with mock.patch("identity.notifications.send_mail", side_effect=flaky):
        # The task retries by itself (eagerly here: throw=False lets the retry run); the
        # retry sends the two digests still owed.
        assert send_daily_digests.apply(throw=False).get() == 2

    assert len(calls) == 4
    assert recipients(mailoutbox) == sorted(reader.email for reader in readers)
    assert send_daily_digests.apply().get() == 0
    assert len(mailoutbox) == 3


WINTER_NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SUMMER_NOON = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
NIGHT_CLOCKS_GO_FORWARD = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (WINTER_NOON, date(2026, 1, 16)),
        (SUMMER_NOON, date(2026, 7, 16)),
        (NIGHT_CLOCKS_GO_FORWARD, date(2026, 3, 29)),
    ],
)
def test_beat_sends_the_digest_every_day_at_seven_paris_time(now, day):
    entry = django_settings.CELERY_BEAT_SCHEDULE["governance-send-daily-digests"]
    assert entry["task"] == send_daily_digests.name
    assert celery_app.conf.timezone == "Europe/Paris"
    schedule = copy.copy(entry["schedule"])
    schedule.app = celery_app
    schedule.nowfun = lambda: now

    due = schedule.is_due(now)

    next_run = (now + timedelta(seconds=due.next)).astimezone(ZoneInfo("Europe/Paris"))
    assert not due.is_due
    assert (next_run.date(), next_run.hour, next_run.minute) == (day, 7, 0)


# --- the setting on the profile page ------------------------------------------------------

PROFILE = "/me/"
SETTINGS_URL = "/me/notifications/"


def test_the_profile_page_shows_the_notification_setting(client, user):
    client.force_login(user)
    response = client.get(PROFILE)
    assert response.status_code == 200
    assert b'name="notification_mode"' in response.content
    assert b'value="daily_digest"' in response.content
    assert response.context["notification_form"]["notification_mode"].value() == "immediate"


def test_posting_the_form_changes_the_mode_without_writing_to_the_ledger(client, user):
    client.force_login(user)
    before = Transaction.objects.count()
    response = client.post(SETTINGS_URL, {"notification_mode": "daily_digest"})
    assert response.status_code == 302
    assert response.url == PROFILE
    user.refresh_from_db()
    assert user.notification_mode == NotificationMode.DAILY_DIGEST
    assert Transaction.objects.count() == before


def test_an_unknown_mode_changes_nothing(client, user):
    client.force_login(user)
    client.post(SETTINGS_URL, {"notification_mode": "hourly"})
    user.refresh_from_db()
    assert user.notification_mode == NotificationMode.IMMEDIATE


def test_an_anonymous_visitor_is_sent_to_log_in(client, user):
    for response in (
        client.get(PROFILE),
        client.post(SETTINGS_URL, {"notification_mode": "none"}),
    ):
        assert response.status_code == 302
        assert "login" in response.url
    user.refresh_from_db()
    assert user.notification_mode == NotificationMode.IMMEDIATE

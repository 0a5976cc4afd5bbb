"""Celery tasks of the data marketplace's contracts: telling residents about consent requests,
sending purge requests until the consumer acknowledges them, and issuing invoices that are
due. Each loads by id and calls a service; a retry finds the work done or does the rest.

Purge requests are retried with a growing delay (1 min, 2, 4… capped at a day) for as long as
the consumer has not acknowledged them; `resend_stale_purges` (for Celery beat, hourly) picks
up any request whose retries were lost (a flushed broker). With eager tasks (no broker: a
laptop, the tests) a task runs once per call and never re-queues itself.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from identity.models import User
from identity.notifications import notifications_send
from smartb.outbox import OutboxTask

from .models import Agreement, ConsentStatus, PurgeRequest, PurgeStatus

logger = logging.getLogger(__name__)

MESSAGE_LANGUAGE = "fr"
PURGE_MAX_DELAY_SECONDS = 24 * 3600


def purge_retry_delay(attempts: int) -> int:
    """Seconds before sending a purge request again after `attempts` sendings."""
    return min(60 * 2 ** max(attempts - 1, 0), PURGE_MAX_DELAY_SECONDS)


def _wallet_url() -> str:
    return settings.SMARTB_SITE_URL.rstrip("/") + reverse("marketplace_data:wallet")


@shared_task(
    bind=True,
    base=OutboxTask,
    outbox_atomic=False,  # one transaction per e-mail (identity.notifications)
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def notify_consent_requests(self, agreement_id: int) -> int:
    """E-mail each resident asked for consent under an agreement (once each)."""
    agreement = Agreement.objects.select_related("dataset").filter(pk=agreement_id).first()
    if agreement is None:
        return 0
    users = User.objects.filter(
        is_active=True,
        identities__data_consents__agreement=agreement,
        identities__data_consents__status=ConsentStatus.REQUESTED,
    ).exclude(email="")
    with translation.override(MESSAGE_LANGUAGE):
        subject = _("A consent request about your personal data")
        body = _(
            "A service asks to use records about you from the dataset “%(dataset)s”. Read who "
            "asks, for which purposes and how long, then accept or refuse in your personal-data "
            "wallet: %(url)s"
        ) % {"dataset": agreement.dataset.title, "url": _wallet_url()}
    return notifications_send(
        users=users.distinct().order_by("pk"),
        key=f"data-consent:{agreement.public_id}",
        subject=subject,
        body=body,
    )


def _purge_notice(purge: PurgeRequest) -> tuple[str, str]:
    with translation.override(MESSAGE_LANGUAGE):
        subject = _("Purge request: delete data received under agreement %(id)s") % {
            "id": purge.agreement.public_id
        }
        what = (
            _("the records of the data subject %(did)s") % {"did": purge.consent.subject.did}
            if purge.consent_id
            else _("all the data you received under it")
        )
        body = _(
            "Delete %(what)s, then acknowledge with your DID's signature: "
            "POST /api/v1/marketplace/purges/%(id)s/acknowledge (reminder %(n)s)."
        ) % {"what": what, "id": purge.public_id, "n": purge.attempts}
    return subject, body


@shared_task(bind=True, base=OutboxTask, max_retries=None)
def send_purge_request(self, purge_id: int) -> str | None:
    """Send a purge request to its consumer, again and again until acknowledged.

    One sending (its count and its notice) is one transaction: a worker killed half-way
    leaves nothing, and the redelivered task makes the same sending again, not the next.
    The reminder is queued after that commit, as a new task (`self.retry` would raise
    inside the transaction of the outbox row and undo the sending)."""
    from .services.wallet import purge_attempt

    purge = (
        PurgeRequest.objects.select_related("agreement", "consent__subject", "consumer")
        .filter(pk=purge_id)
        .first()
    )
    if purge is None or purge.status == PurgeStatus.ACKNOWLEDGED:
        return None if purge is None else purge.status
    with transaction.atomic():
        purge = purge_attempt(purge=purge)
        if purge.status == PurgeStatus.ACKNOWLEDGED:
            return purge.status
        subject, body = _purge_notice(purge)
        notifications_send(
            users=[purge.consumer],
            key=f"data-purge:{purge.public_id}:{purge.attempts}",
            subject=subject,
            body=body,
        )
        if not self.request.is_eager:
            countdown = purge_retry_delay(purge.attempts)
            # robust: a broker down now loses this reminder only; resend_stale_purges
            # picks the request up again.
            transaction.on_commit(
                lambda: send_purge_request.apply_async(args=[purge_id], countdown=countdown),
                robust=True,
            )
    return purge.status


@shared_task
def resend_stale_purges() -> int:
    """Beat: re-send purge requests left unacknowledged past their retry delay whose retry
    chain was lost. Returns how many were sent again."""
    now = timezone.now()
    sent = 0
    waiting = PurgeRequest.objects.filter(
        status__in=[PurgeStatus.PENDING, PurgeStatus.SENT]
    ).filter(Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=now - timedelta(days=2)))
    for purge_id in waiting.values_list("pk", flat=True).order_by("pk")[:500]:
        send_purge_request.apply_async(args=[purge_id])
        sent += 1
    return sent


@shared_task(
    bind=True, base=OutboxTask, autoretry_for=(Exception,), retry_backoff=True, max_retries=5
)
def issue_invoice(self, agreement_id: int) -> str | None:
    """Issue the invoice of an agreement's unbilled usage (after a threshold was reached)."""
    from .services.billing import invoice_issue

    agreement = Agreement.objects.filter(pk=agreement_id).first()
    if agreement is None:
        return None
    invoice = invoice_issue(agreement=agreement)
    return invoice.public_id if invoice else None


@shared_task
def issue_due_invoices() -> list[str]:
    """Beat (daily): invoice every agreement's unbilled usage of the past period. One that
    fails is logged and retried at the next run."""
    from .services.billing import agreements_due_for_invoice, invoice_issue

    issued = []
    for agreement in agreements_due_for_invoice():
        try:
            invoice = invoice_issue(agreement=agreement)
        except Exception:
            logger.exception("invoicing agreement %s failed; retried next run", agreement.pk)
            continue
        if invoice is not None:
            issued.append(invoice.public_id)
    return issued

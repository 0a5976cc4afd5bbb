"""Who is told about an inconsistent checkpoint, and what: the municipality staff of the
witnessing city and of the watched city (the operators for the network chain or a log of
another deployment). The message names the log, the sizes and links to the evidence page:
no personal data. In French, the platform's default language."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from governance.models import City, CollegeKind, Membership, MembershipStatus
from identity.models import NotificationMode, User

from .models import Inconsistency, Source

MESSAGE_LANGUAGE = "fr"


def inconsistency_key(evidence: Inconsistency) -> str:
    return f"witness-evidence:{evidence.public_id}"


def _staff_of(cities: list[City]) -> QuerySet[User]:
    memberships = Membership.objects.filter(
        city__in=cities,
        status=MembershipStatus.APPROVED,
        college__kind=CollegeKind.MUNICIPALITY,
    )
    return User.objects.filter(pk__in=memberships.values("user"))


def inconsistency_recipients(evidence: Inconsistency) -> QuerySet[User]:
    relation = evidence.relation
    cities = [relation.witness]
    watched = None
    if relation.source == Source.LOCAL:
        watched = City.objects.filter(chain_id=relation.chain_id).first()
    if watched is not None:
        cities.append(watched)
    users = _staff_of(cities)
    if watched is None:
        users = users | User.objects.filter(is_staff=True)
    return (
        users.filter(is_active=True)
        .exclude(email="")
        .exclude(notification_mode=NotificationMode.NONE)
        .distinct()
        .order_by("pk")
    )


def inconsistency_message(evidence: Inconsistency) -> tuple[str, str]:
    relation = evidence.relation
    url = settings.SMARTB_SITE_URL.rstrip("/") + reverse(
        "witnesses:city", kwargs={"slug": relation.witness.slug}
    )
    with translation.override(MESSAGE_LANGUAGE):
        values = {
            "origin": relation.origin,
            "witness": relation.witness.name,
            "reason": str(evidence.get_reason_display()),
            "url": url,
        }
        subject = _("SMART B alert: inconsistent checkpoint of %(origin)s") % values
        body = "\n\n".join(
            [
                _("%(witness)s, witnessing the log %(origin)s, refused a checkpoint: %(reason)s.")
                % values,
                _(
                    "Both signed checkpoints are kept as evidence and its digest is on the "
                    "ledger. See: %(url)s"
                )
                % values,
            ]
        )
    return subject, body

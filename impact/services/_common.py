"""What the impact services share: who signs, digests, checked inputs, the portfolio of a
member, and how a client-signed transaction is accepted."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from governance.actions import platform_signer
from governance.models import City, CollegeKind, Membership, MembershipStatus
from identity.models import Identity, User
from ledger.canonical import canonical_json
from ledger.models import Transaction
from ledger.services import ledger_append

from ..errors import InvalidInput, NotAllowed
from ..models import Portfolio

TOKEN = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
DID = re.compile(r"^did:key:z[1-9A-HJ-NP-Za-km-z]{20,100}$")


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_json(document) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()


def signer_of(user: User) -> Identity:
    """The user's custodial DID, or a clear refusal (no DID, or a self-custody one)."""
    return platform_signer(user.primary_identity)


def clean_text(value, *, what: str, max_length: int, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None:
        raise InvalidInput(_("%(what)s is text.") % {"what": what})
    if required and not text:
        raise InvalidInput(_("%(what)s is required.") % {"what": what})
    if len(text) > max_length:
        raise InvalidInput(
            _("%(what)s is at most %(n)s characters.") % {"what": what, "n": max_length}
        )
    return text


def positive_int(value, *, what: str, zero: bool = False) -> int:
    if type(value) is not int or value < (0 if zero else 1) or value > 10**15:
        raise InvalidInput(_("%(what)s is a positive whole number.") % {"what": what})
    return value


def approved_member(user: User, city: City) -> Membership | None:
    return (
        Membership.objects.select_related("college", "identity")
        .filter(city=city, user=user, status=MembershipStatus.APPROVED)
        .first()
    )


def require_member(user: User, city: City) -> Membership:
    membership = approved_member(user, city)
    if membership is None:
        raise NotAllowed(_("Only approved members of this city may do this."))
    return membership


def require_staff(user: User, city: City) -> Membership:
    membership = approved_member(user, city)
    if membership is None or membership.college.kind != CollegeKind.MUNICIPALITY:
        raise NotAllowed(_("Only this city's municipality staff may do this."))
    return membership


def portfolio_for(*, city: City, user: User) -> Portfolio:
    """The user's portfolio in `city`, opened on first use (no ledger transaction: a
    portfolio holds nothing until tokens arrive, and each arrival is on the ledger)."""
    portfolio = Portfolio.objects.filter(city=city, user=user).first()
    if portfolio is not None:
        return portfolio
    identity = user.primary_identity
    if identity is None:
        raise NotAllowed(_("Your account has no active DID."))
    try:
        with transaction.atomic():
            return Portfolio.objects.create(city=city, user=user, identity=identity)
    except IntegrityError:
        return Portfolio.objects.get(city=city, user=user)


def city_portfolio(city: City) -> Portfolio:
    """The city's own portfolio (held by the municipality's DID): it receives the tokens of
    claims made by municipality staff and pays participation rewards."""
    return portfolio_for(city=city, user=city.identity.user)


def record(
    *,
    chain,
    actor: Identity,
    kind: str,
    payload: dict,
    append: Callable[[], Transaction] | None = None,
) -> Transaction:
    """Append `kind` with `payload`, signed by `actor`: by the platform (custodial), or
    through `append()` when the client signed it (prepare → sign → submit). A client-signed
    transaction must be exactly this one (actor, kind, payload, chain), or nothing is
    recorded."""
    if append is None:
        return ledger_append(chain=chain, actor=platform_signer(actor), kind=kind, payload=payload)
    entry = append()
    if (
        entry.actor != actor.did
        or entry.kind != kind
        or canonical_json(entry.payload) != canonical_json(payload)
        or entry.chain_id != chain.pk
    ):
        from ..errors import PlanChanged

        raise PlanChanged()
    return entry

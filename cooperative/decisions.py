"""The cooperative's proposal kinds, registered with governance (`governance.effects`).

Each kind has a validator (run when the proposal is drafted or amended) and an effect (run
when the general assembly accepted it, inside the execution's database transaction). Only
the cooperative's body may propose them: a city's rules never name them, and the validators
refuse any other body.

- `approve_accounts`: the year's accounts (result in cents, digest of the accounts
  document); accepted, it distributes at most the rules' rate of a positive result to the
  investors (`cooperative.distribution`).
- `audit_standards`, `fees_schedule`: what the operator's audits check and what the network
  charges, in force from a date.
- `admit_city`: creates the city (`governance.services.city_create`, signed by an operator).
- `city_independence`: the network's side of a city's departure (see `_city_independence`).
- `admit_member`: admits a newcomer's pending subscription when the rules say `vote`.
"""

from __future__ import annotations

import datetime
import hashlib
import re

from django.db.models import Q
from django.utils.translation import gettext as _

from governance.effects import EffectFailed
from governance.errors import GovernanceError, InvalidInput, NotAllowed
from governance.models import City, CollegeKind, Membership, MembershipStatus, Proposal
from ledger.canonical import MAX_SAFE_INTEGER, canonical_json
from ledger.models import Chain
from ledger.services import ledger_append

from .distribution import compute_distribution
from .models import (
    Allocation,
    Distribution,
    Holding,
    MovementStatus,
    NetworkDecision,
    ShareMovement,
)
from .rules import section

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_POSTAL = re.compile(r"^\d{5}$")


def _network_only(city: City) -> None:
    if not city.is_network_body:
        raise NotAllowed(_("Only the operator's cooperative decides this."))


def _int(value, low: int, high: int, message: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise InvalidInput(message)
    return value


def _digest(value, message: str) -> str:
    if not isinstance(value, str) or not _HEX64.match(value):
        raise InvalidInput(message)
    return value


def _date(value) -> str:
    try:
        if not isinstance(value, str) or not _DATE.match(value):
            raise ValueError
        datetime.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(_("Give the date it takes effect as YYYY-MM-DD.")) from None
    return value


def _record(proposal: Proposal, kind: str, payload: dict, effect: dict) -> NetworkDecision:
    body = proposal.city
    entry = ledger_append(
        chain=body.chain,
        actor=body.identity,
        kind=f"cooperative.decision.{kind}",
        payload={"proposal": proposal.public_id, **payload},
    )
    return NetworkDecision.objects.create(
        proposal=proposal, kind=kind, parameters=proposal.parameters, effect=effect, entry=entry
    )


# --- approve_accounts ---------------------------------------------------------------------


def accounts_validate(*, city: City, parameters: dict, author=None) -> dict:
    _network_only(city)
    year = _int(parameters.get("year"), 2000, 2999, _("The year is a whole number."))
    result = _int(
        parameters.get("result_cents"),
        -MAX_SAFE_INTEGER,
        MAX_SAFE_INTEGER,
        _("The result is a whole number of cents (negative for a loss)."),
    )
    digest = _digest(
        parameters.get("accounts_digest"),
        _("Give the SHA-256 of the accounts document (64 hexadecimal characters)."),
    )
    if Distribution.objects.filter(year=year).exists():
        raise InvalidInput(_("The accounts of this year were already approved."))
    return {"year": year, "result_cents": result, "accounts_digest": digest}


def investor_lines(body: City, *, lock: bool = False) -> list[Holding]:
    """The investors' holdings with shares, in a fixed order (their key)."""
    holdings = Holding.objects.filter(
        membership__city=body,
        membership__status=MembershipStatus.APPROVED,
        membership__college__kind=CollegeKind.INVESTORS,
        shares__gt=0,
    ).order_by("pk")
    if lock:
        holdings = holdings.select_for_update(of=("self",))
    return list(holdings.select_related("membership__identity"))


def computation_digest(computation: dict) -> str:
    return hashlib.sha256(canonical_json(computation)).hexdigest()


def accounts_execute(*, proposal: Proposal) -> dict:
    """Distribute the year's result to the investors, as the rules frozen with the vote say."""
    body = proposal.city
    parameters = proposal.parameters
    if Distribution.objects.filter(year=parameters["year"]).exists():
        raise EffectFailed(_("The accounts of this year were already approved."))
    try:
        rules = section(proposal.rules.rules)
    except GovernanceError as error:
        raise EffectFailed(error.message) from error
    holdings = investor_lines(body, lock=True)
    computation = compute_distribution(
        result_cents=parameters["result_cents"],
        rate_basis_points=rules["distribution_rate_basis_points"],
        schedule=rules["horizon_weights"],
        lines=[
            {
                "holding": h.public_id,
                "member": h.membership.identity.did,
                "shares": h.shares,
                "horizon_years": h.horizon_years,
            }
            for h in holdings
        ],
    )
    computation = {"year": parameters["year"], "proposal": proposal.public_id, **computation}
    digest = computation_digest(computation)
    entry = ledger_append(
        chain=body.chain,
        actor=body.identity,
        kind="cooperative.distribution.record",
        payload={
            "proposal": proposal.public_id,
            "year": parameters["year"],
            "result_cents": parameters["result_cents"],
            "accounts": parameters["accounts_digest"],
            "rate_basis_points": computation["rate_basis_points"],
            "cap_cents": computation["cap_cents"],
            "distributed_cents": computation["distributed_cents"],
            "lines": len(holdings),
            "computation": digest,
        },
    )
    distribution = Distribution.objects.create(
        proposal=proposal,
        year=parameters["year"],
        result_cents=parameters["result_cents"],
        accounts_digest=parameters["accounts_digest"],
        rate_basis_points=computation["rate_basis_points"],
        cap_cents=computation["cap_cents"],
        distributed_cents=computation["distributed_cents"],
        computation=computation,
        digest=digest,
        entry=entry,
    )
    Allocation.objects.bulk_create(
        Allocation(
            distribution=distribution,
            holding=holding,
            membership=holding.membership,
            position=position,
            amount_cents=line["amount_cents"],
        )
        for position, (holding, line) in enumerate(zip(holdings, computation["lines"], strict=True))
    )
    return {
        "effect": "distribution",
        "year": distribution.year,
        "cap_cents": distribution.cap_cents,
        "distributed_cents": distribution.distributed_cents,
        "computation": digest,
    }


# --- audit standards, fees schedule ------------------------------------------------------------


def audit_standards_validate(*, city: City, parameters: dict, author=None) -> dict:
    _network_only(city)
    version = parameters.get("version")
    if not isinstance(version, str) or not _TOKEN.match(version):
        raise InvalidInput(_("Name the version of the standards (letters, digits, . _ -)."))
    return {
        "version": version,
        "document_digest": _digest(
            parameters.get("document_digest"),
            _("Give the SHA-256 of the standards document (64 hexadecimal characters)."),
        ),
        "effective_from": _date(parameters.get("effective_from")),
    }


def audit_standards_execute(*, proposal: Proposal) -> dict:
    p = proposal.parameters
    payload = {
        "version": p["version"],
        "document": p["document_digest"],
        "effective_from": p["effective_from"],
    }
    effect = {"effect": "audit_standards_in_force", **payload}
    _record(proposal, "audit_standards", payload, effect)
    return effect


def fees_schedule_validate(*, city: City, parameters: dict, author=None) -> dict:
    _network_only(city)
    fees = parameters.get("fees")
    if not isinstance(fees, dict) or not 1 <= len(fees) <= 20:
        raise InvalidInput(_("List from 1 to 20 fees, each a name and an amount in cents."))
    clean = {}
    for name, cents in fees.items():
        if not isinstance(name, str) or not _SLUG.match(name):
            raise InvalidInput(_("A fee's name is a slug (lowercase letters, digits, -)."))
        clean[name] = _int(cents, 0, 10**9, _("A fee is a whole number of cents."))
    return {"fees": clean, "effective_from": _date(parameters.get("effective_from"))}


def fees_schedule_execute(*, proposal: Proposal) -> dict:
    p = proposal.parameters
    payload = {"fees": p["fees"], "effective_from": p["effective_from"]}
    effect = {"effect": "fees_schedule_in_force", "effective_from": p["effective_from"]}
    _record(proposal, "fees_schedule", payload, effect)
    return effect


# --- cities ------------------------------------------------------------------------------------


def admit_city_validate(*, city: City, parameters: dict, author=None) -> dict:
    _network_only(city)
    slug = parameters.get("slug")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise InvalidInput(_("The city's slug: lowercase letters, digits and dashes."))
    if Chain.objects.filter(slug=slug).exists():
        raise InvalidInput(_("This slug is already taken by a chain."))
    name = parameters.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        raise InvalidInput(_("Give the city's name."))
    codes = parameters.get("postal_codes")
    if (
        not isinstance(codes, list)
        or not 1 <= len(codes) <= 50
        or not all(isinstance(c, str) and _POSTAL.match(c) for c in codes)
    ):
        raise InvalidInput(_("List the city's postal codes (five digits each)."))
    return {"slug": slug, "name": name.strip(), "postal_codes": codes}


def _operator_for(proposal: Proposal):
    """The operator account that signs a city's creation: the author when staff, otherwise a
    staff member of the operators college."""
    if proposal.author.user.is_staff and proposal.author.user.is_active:
        return proposal.author.user
    member = (
        Membership.objects.select_related("user")
        .filter(
            city=proposal.city,
            status=MembershipStatus.APPROVED,
            college__kind=CollegeKind.OPERATORS,
            user__is_staff=True,
            user__is_active=True,
        )
        .order_by("pk")
        .first()
    )
    if member is None:
        raise EffectFailed(_("No operator account can sign the city's creation."))
    return member.user


def admit_city_execute(*, proposal: Proposal) -> dict:
    from governance.services import city_create

    p = proposal.parameters
    try:
        city = city_create(
            operator=_operator_for(proposal),
            slug=p["slug"],
            name=p["name"],
            postal_codes=p["postal_codes"],
        )
    except GovernanceError as error:
        if isinstance(error, EffectFailed):
            raise
        raise EffectFailed(error.message) from error
    payload = {
        "city": city.slug,
        "municipality": city.identity.did,
        "name": hashlib.sha256(city.name.encode()).hexdigest(),
    }
    effect = {"effect": "city_admitted", "city": city.slug}
    _record(proposal, "admit_city", payload, effect)
    return effect


def city_independence_validate(*, city: City, parameters: dict, author=None) -> dict:
    _network_only(city)
    slug = parameters.get("city")
    if not isinstance(slug, str) or not City.objects.filter(slug=slug).exists():
        raise InvalidInput(_("Name a city of the network."))
    return {"city": slug}


def city_independence_execute(*, proposal: Proposal) -> dict:
    """The network's side of a city's independence.

    A city decides its own independence (its `become_independent` vote, which sets
    `independent_at` and lets it leave with its export); the network neither blocks nor
    replaces that vote. This decision records on the network chain that the network
    acknowledges the request and settles its side (the operator's services and the network's
    records of the city), and whether the city's own vote had already been carried out."""
    city = City.objects.filter(slug=proposal.parameters["city"]).select_related("chain").first()
    if city is None:
        raise EffectFailed(_("This city is no longer on the network."))
    city_decided = city.independent_at is not None
    payload = {"city": city.slug, "chain": city.chain.slug, "city_decided": city_decided}
    effect = {"effect": "independence_acknowledged", **payload}
    _record(proposal, "city_independence", payload, effect)
    return effect


# --- admission by vote ------------------------------------------------------------------


def admit_member_validate(*, city: City, parameters: dict, author=None) -> dict:
    _network_only(city)
    public_id = parameters.get("subscription")
    if (
        not isinstance(public_id, str)
        or not ShareMovement.objects.filter(
            Q(public_id=public_id), status=MovementStatus.PENDING
        ).exists()
    ):
        raise InvalidInput(_("Name a subscription waiting for admission."))
    return {"subscription": public_id}


def admit_member_execute(*, proposal: Proposal) -> dict:
    from .services import subscription_admit

    movement = ShareMovement.objects.filter(public_id=proposal.parameters["subscription"]).first()
    if movement is None or movement.status != MovementStatus.PENDING:
        raise EffectFailed(_("This subscription is no longer waiting for admission."))
    try:
        movement = subscription_admit(movement=movement, proposal=proposal)
    except GovernanceError as error:
        raise EffectFailed(error.message) from error
    return {
        "effect": "member_admitted",
        "subscription": movement.public_id,
        "membership": movement.to_membership.public_id,
    }


HANDLERS = {
    "approve_accounts": (accounts_validate, accounts_execute),
    "audit_standards": (audit_standards_validate, audit_standards_execute),
    "fees_schedule": (fees_schedule_validate, fees_schedule_execute),
    "admit_city": (admit_city_validate, admit_city_execute),
    "city_independence": (city_independence_validate, city_independence_execute),
    "admit_member": (admit_member_validate, admit_member_execute),
}


def register() -> None:
    from governance.effects import register_kind

    for kind, (validate, execute) in HANDLERS.items():
        register_kind(kind, validate=validate, execute=execute)

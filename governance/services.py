"""The only writers of governance state. Each service runs in one database transaction and
writes its signed ledger transaction beside the state it changes; side effects (tasks,
e-mail) go out with `transaction.on_commit`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.fr import siret as stdnum_siret

from identity.models import Identity, User
from identity.services import credential_issue, credential_revoke, identity_create_custodial
from ledger.canonical import canonical_json
from ledger.models import NETWORK_CHAIN_SLUG, Chain, Transaction
from ledger.services import chain_create, ledger_append
from smartb.outbox import outbox_enqueue

from .effects import EffectFailed, execute_registered, validate_registered
from .errors import (
    AlreadyMember,
    InsufficientFunds,
    InvalidInput,
    InvalidPeriod,
    InvalidRules,
    InvalidSiret,
    NotAllowed,
    NotInElectorate,
    ResidencyNotProven,
    VoteClosed,
    VoteNotChangeable,
    WrongState,
)
from .models import (
    Account,
    AccountKind,
    Ballot,
    Choice,
    City,
    College,
    CollegeKind,
    Comment,
    ElectorateEntry,
    Membership,
    MembershipStatus,
    Movement,
    Posting,
    Proposal,
    ProposalKind,
    ProposalStatus,
    RulesVersion,
)
from .rules import DEFAULT_COLLEGES, default_rules, validate_rules
from .tally import compute_tally, electorate_digest

DEFAULT_ACCOUNTS = [
    # (code, kind): the treasury's chart of accounts
    ("bank", AccountKind.ASSET),
    ("fees", AccountKind.REVENUE),
    ("impact-funds", AccountKind.REVENUE),
    ("grants", AccountKind.REVENUE),
    ("project-payouts", AccountKind.EXPENSE),
    ("operator-share", AccountKind.EXPENSE),
    *[(code, AccountKind.LIABILITY) for code in ("operator-payable", "data-owners-payable")],
]


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rules_digest(rules: dict) -> str:
    return hashlib.sha256(canonical_json(rules)).hexdigest()


def signer_of(user: User) -> Identity:
    identity = user.primary_identity
    if identity is None:
        raise NotAllowed(_("Your account has no active DID."))
    return identity


# --- cities ---------------------------------------------------------------------------


@transaction.atomic
def city_create(*, operator: User, slug: str, name: str, postal_codes: list[str]) -> City:
    """Create a city: its chain, its municipality DID, default colleges, rules and accounts.

    The network chain records the creation, signed by the operator.
    """
    if not operator.is_staff:
        raise NotAllowed(_("Only the operator creates cities."))
    if Chain.objects.filter(slug=slug).exists():
        # chain_create would hand back the existing chain (the network's, or another city's).
        raise WrongState(_("This slug is already taken by a chain."))
    service_account = User.objects.create_user(
        username=f"city-{slug}", email="", password=None, is_active=False
    )
    city_identity = service_account.primary_identity or identity_create_custodial(
        user=service_account, primary=True
    )
    chain = chain_create(slug=slug, name=name, actor=signer_of(operator))
    city = City.objects.create(
        slug=slug, name=name, chain=chain, identity=city_identity, postal_codes=postal_codes
    )
    for position, (college_slug, kind, _weight, _quorum) in enumerate(DEFAULT_COLLEGES):
        College.objects.create(
            city=city,
            slug=college_slug,
            name=CollegeKind(kind).label,
            kind=kind,
            position=position,
        )
    for code, kind in DEFAULT_ACCOUNTS:
        Account.objects.create(city=city, code=code, name=code, kind=kind)
    rules = default_rules()
    version = RulesVersion.objects.create(
        city=city, version=1, rules=rules, digest=rules_digest(rules)
    )
    ledger_append(
        chain=NETWORK_CHAIN_SLUG,
        actor=signer_of(operator),
        kind="governance.city.create",
        payload={"city": slug, "municipality": city_identity.did},
    )
    ledger_append(
        chain=chain,
        actor=city_identity,
        kind="governance.rules.adopt",
        payload={"city": slug, "version": 1, "rules": rules, "digest": version.digest},
    )
    return city


def rules_in_force(city: City) -> RulesVersion:
    return city.rules_versions.order_by("-version").first()


# --- memberships ----------------------------------------------------------------------


@transaction.atomic
def membership_request(
    *,
    user: User,
    city: City,
    college: College,
    postal_address: str = "",
    postal_code: str = "",
    siret: str = "",
) -> Membership:
    """Ask to join `college`. Residents give an address in the city's postal codes; providers
    a valid SIRET. Municipality staff are appointed by the operator (`membership_appoint`).
    Nothing goes on the ledger until approval: the request holds personal data."""
    if college.city_id != city.pk:
        raise NotAllowed(_("This college belongs to another city."))
    if college.kind == CollegeKind.MUNICIPALITY:
        raise NotAllowed(_("Municipality staff are appointed by the operator."))
    if college.kind == CollegeKind.RESIDENTS and postal_code.strip() not in city.postal_codes:
        raise ResidencyNotProven()
    if college.kind == CollegeKind.RESIDENTS and not postal_address.strip():
        raise InvalidInput(_("Give your postal address: the municipality checks it."))
    if college.kind == CollegeKind.PROVIDERS and not stdnum_siret.is_valid(siret):
        raise InvalidSiret()
    try:
        with transaction.atomic():
            return Membership.objects.create(
                city=city,
                college=college,
                user=user,
                identity=signer_of(user),
                postal_address=postal_address.strip(),
                postal_code=postal_code.strip(),
                siret=stdnum_siret.compact(siret) if siret else "",
            )
    except IntegrityError as error:
        raise AlreadyMember() from error


def is_municipality_staff(user: User, city: City) -> bool:
    return Membership.objects.filter(
        city=city,
        user=user,
        status=MembershipStatus.APPROVED,
        college__kind=CollegeKind.MUNICIPALITY,
    ).exists()


def _approve(membership: Membership, *, by: User, kind: str) -> Membership:
    city = membership.city
    credential = credential_issue(
        issuer=city.identity,
        subject_did=membership.identity.did,
        types=["VerifiableCredential", "CityMembershipCredential"],
        claims={
            "city": city.slug,
            "college": membership.college.slug,
            "membership": membership.public_id,
        },
        chain=city.chain.slug,
    )
    membership.status = MembershipStatus.APPROVED
    membership.decided_at = timezone.now()
    membership.decided_by = by
    membership.credential = credential
    membership.save(update_fields=["status", "decided_at", "decided_by", "credential"])
    ledger_append(
        chain=city.chain,
        actor=signer_of(by),
        kind=kind,
        payload={
            "city": city.slug,
            "membership": membership.public_id,
            "member": membership.identity.did,
            "college": membership.college.slug,
            "credential": credential.digest,
        },
    )
    return membership


@transaction.atomic
def membership_approve(*, membership: Membership, by: User) -> Membership:
    """Municipality staff approve a pending request; the city's DID issues the credential."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not is_municipality_staff(by, membership.city):
        raise NotAllowed()
    if membership.status != MembershipStatus.PENDING:
        raise WrongState()
    return _approve(membership, by=by, kind="governance.membership.approve")


@transaction.atomic
def membership_refuse(*, membership: Membership, by: User, reason: str) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if not is_municipality_staff(by, membership.city):
        raise NotAllowed()
    if membership.status != MembershipStatus.PENDING:
        raise WrongState()
    if not reason.strip():
        raise InvalidInput(_("A refusal says why."))
    membership.status = MembershipStatus.REFUSED
    membership.decided_at = timezone.now()
    membership.decided_by = by
    membership.reason = reason.strip()
    membership.save(update_fields=["status", "decided_at", "decided_by", "reason"])
    ledger_append(
        chain=membership.city.chain,
        actor=signer_of(by),
        kind="governance.membership.refuse",
        payload={"membership": membership.public_id, "reason": sha256_text(membership.reason)},
    )
    return membership


@transaction.atomic
def membership_appoint(*, operator: User, user: User, city: City) -> Membership:
    """The operator appoints municipality staff: approved at once."""
    if not operator.is_staff:
        raise NotAllowed(_("Only the operator appoints municipality staff."))
    college = city.colleges.get(kind=CollegeKind.MUNICIPALITY)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                city=city, college=college, user=user, identity=signer_of(user)
            )
    except IntegrityError as error:
        raise AlreadyMember() from error
    return _approve(membership, by=operator, kind="governance.membership.appoint")


@transaction.atomic
def membership_revoke(*, membership: Membership, by: User, reason: str = "revoked") -> Membership:
    # no_key: a vote, comment or electorate snapshot in flight holds the chain head and still
    # needs a key-share lock on this row (its foreign key); FOR UPDATE here would deadlock.
    membership = Membership.objects.select_for_update(no_key=True).get(pk=membership.pk)
    if not (by.is_staff or is_municipality_staff(by, membership.city)):
        raise NotAllowed()
    if membership.status != MembershipStatus.APPROVED:
        raise WrongState()
    membership.status = MembershipStatus.REVOKED
    membership.decided_at = timezone.now()
    membership.reason = reason.strip()[:300]
    membership.save(update_fields=["status", "decided_at", "reason"])
    if membership.credential_id:
        credential_revoke(
            credential=membership.credential,
            by=membership.city.identity,
            reason="membership-revoked",
            chain=membership.city.chain.slug,
        )
    ledger_append(
        chain=membership.city.chain,
        actor=signer_of(by),
        kind="governance.membership.revoke",
        payload={
            "membership": membership.public_id,
            "member": membership.identity.did,
            "college": membership.college.slug,
            "reason": sha256_text(membership.reason),
        },
    )
    return membership


def approved_membership(user: User, city: City) -> Membership | None:
    return (
        Membership.objects.select_related("college", "identity")
        .filter(city=city, user=user, status=MembershipStatus.APPROVED)
        .first()
    )


# --- proposals ------------------------------------------------------------------------


def _may_propose(membership: Membership, kind: str, rules: dict) -> bool:
    return membership.college.slug in rules["proposers"].get(kind, [])


@transaction.atomic
def proposal_create(
    *, author: Membership, kind: str, title: str, body: str = "", parameters: dict | None = None
) -> Proposal:
    """A draft by an approved member whose college may propose this kind (rules in force)."""
    author = Membership.objects.select_related("city", "college", "identity").get(pk=author.pk)
    city = author.city
    rules = rules_in_force(city)
    if not author.is_approved or not _may_propose(author, kind, rules.rules):
        raise NotAllowed(_("Your college may not propose this kind of proposal."))
    if not title.strip():
        raise InvalidInput(_("A proposal needs a title."))
    parameters = _validate_parameters(city, kind, parameters or {}, author)
    proposal = Proposal.objects.create(
        city=city,
        kind=kind,
        title=title.strip(),
        body=body,
        parameters=parameters,
        author=author,
    )
    ledger_append(
        chain=city.chain,
        actor=author.identity,
        kind="governance.proposal.create",
        payload={
            "proposal": proposal.public_id,
            "kind": kind,
            "content": _content_digest(proposal),
        },
    )
    return proposal


def _content_digest(proposal: Proposal) -> str:
    return hashlib.sha256(
        canonical_json(
            {"title": proposal.title, "body": proposal.body, "parameters": proposal.parameters}
        )
    ).hexdigest()


def _validate_parameters(
    city: City, kind: str, parameters: dict, author: Membership | None = None
) -> dict:
    registered = validate_registered(city=city, kind=kind, parameters=parameters, author=author)
    if registered is not None:
        return registered
    if kind == ProposalKind.AMEND_RULES:
        slugs = set(city.colleges.values_list("slug", flat=True))
        return {"rules": validate_rules(parameters.get("rules"), college_slugs=slugs)}
    if kind == ProposalKind.FUND_PROJECT and "budget_cents" in parameters:
        from .budget import budget_parameters

        return budget_parameters(parameters)
    if kind == ProposalKind.FUND_PROJECT:
        amount = parameters.get("amount_cents")
        recipient = parameters.get("recipient", "")
        if type(amount) is not int or amount <= 0:
            raise InvalidRules(_("A funded project has a positive amount."))
        if not isinstance(recipient, str) or not recipient.startswith("did:key:"):
            raise InvalidRules(_("A funded project names the recipient’s DID."))
        return {"amount_cents": amount, "recipient": recipient}
    if kind == ProposalKind.DEPLOY_SERVICE:
        # Until the app store registers this kind (governance.effects), keep an identifier.
        return {"service": str(parameters.get("service", ""))[:64]}
    return {}


@transaction.atomic
def proposal_amend(
    *, proposal: Proposal, by: Membership, title: str, body: str, parameters: dict | None = None
) -> Proposal:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    by = Membership.objects.select_related("identity").get(pk=by.pk)
    if proposal.author_id != by.pk or not by.is_approved:
        raise NotAllowed(_("Only its author, still a member, amends a draft."))
    if proposal.status != ProposalStatus.DRAFT:
        raise WrongState(_("Only a draft can be amended."))
    if not title.strip():
        raise InvalidInput(_("A proposal needs a title."))
    proposal.title = title.strip()
    proposal.body = body
    if parameters is not None:
        proposal.parameters = _validate_parameters(proposal.city, proposal.kind, parameters, by)
    proposal.save(update_fields=["title", "body", "parameters"])
    ledger_append(
        chain=proposal.city.chain,
        actor=by.identity,
        kind="governance.proposal.amend",
        payload={"proposal": proposal.public_id, "content": _content_digest(proposal)},
    )
    return proposal


@transaction.atomic
def proposal_open(
    *, proposal: Proposal, by: Membership, closes_at: datetime, now: datetime | None = None
) -> Proposal:
    """Open the vote: freeze the rules in force and snapshot the electorate, on the ledger."""
    now = now or timezone.now()
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    by = Membership.objects.select_related("college", "identity").get(pk=by.pk)
    if not by.is_approved or by.city_id != proposal.city_id:
        raise NotAllowed(_("Only an approved member of this city opens a vote."))
    if proposal.author_id != by.pk and by.college.kind != CollegeKind.MUNICIPALITY:
        raise NotAllowed(_("The author or municipality staff open a vote."))
    if proposal.status != ProposalStatus.DRAFT:
        raise WrongState(_("Only a draft can be opened."))
    budget = None
    if "budget_cents" in (proposal.parameters or {}):
        from .budget import budget_frozen

        budget = budget_frozen(proposal)  # refuses a call without projects
    rules = rules_in_force(proposal.city)
    period = rules.rules["voting_period_hours"]
    if timezone.is_naive(closes_at):
        raise InvalidPeriod(_("The closing date needs a time zone."))
    hours = (closes_at - now) / timedelta(hours=1)
    if not period["min"] <= hours <= period["max"]:
        raise InvalidPeriod()
    # Hold the chain head while reading the roster: an approval or revocation already on the
    # ledger commits first and is in the snapshot; a later one lands after the open transaction.
    Chain.objects.select_for_update().get(pk=proposal.city.chain_id)
    members = list(
        Membership.objects.filter(city=proposal.city, status=MembershipStatus.APPROVED)
        .select_related("college", "identity")
        .order_by("pk")
    )
    ElectorateEntry.objects.bulk_create(
        ElectorateEntry(proposal=proposal, membership=m, college=m.college, did=m.identity.did)
        for m in members
    )
    sizes: dict[str, int] = {}
    for member in members:
        sizes[member.college.slug] = sizes.get(member.college.slug, 0) + 1
    proposal.status = ProposalStatus.OPEN
    proposal.rules = rules
    proposal.opens_at = now
    proposal.closes_at = closes_at
    proposal.electorate_digest = electorate_digest(
        [(m.college.slug, m.identity.did) for m in members]
    )
    proposal.electorate_sizes = sizes
    proposal.save()
    ledger_append(
        chain=proposal.city.chain,
        actor=by.identity,
        kind="governance.proposal.open",
        payload={
            "proposal": proposal.public_id,
            "rules_version": rules.version,
            "rules": rules.rules,
            "electorate": proposal.electorate_digest,
            "electorate_sizes": sizes,
            "closes_at": closes_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            # A budget call also freezes its budget and projects, for the re-count.
            **({"budget": budget} if budget is not None else {}),
        },
    )
    from .tasks import notify_vote_opened

    outbox_enqueue(notify_vote_opened, proposal.pk)
    return proposal


# --- votes ----------------------------------------------------------------------------


def vote_payload(*, proposal: Proposal, college_slug: str, choice: str) -> dict:
    return {"proposal": proposal.public_id, "college": college_slug, "choice": choice}


@transaction.atomic
def vote_cast(
    *,
    proposal: Proposal,
    member: Membership,
    choice: str,
    now: datetime | None = None,
    append: Callable[[], Transaction] | None = None,
) -> Ballot:
    """Record `member`'s vote, signed by their DID; the last vote counts while the rules allow
    changing it. Only members of the electorate snapshot may vote.

    `append` writes the signed `governance.vote.cast` transaction when the voter signed it
    themselves (self-custody, see `identity.signed_actions`); it must be by the member's DID
    and carry exactly `vote_payload(...)`, or nothing is recorded.
    """
    if choice not in Choice.values:
        raise WrongState(_("A vote is yes, no or abstain."))

    def payload_of(locked: Proposal, college_slug: str) -> dict:
        if "budget_cents" in (locked.parameters or {}):
            raise WrongState(_("A participatory budget is voted by picking projects."))
        return vote_payload(proposal=locked, college_slug=college_slug, choice=choice)

    return _ballot_record(
        proposal=proposal,
        member=member,
        choice=choice,
        payload_of=payload_of,
        now=now,
        append=append,
    )


def _ballot_record(
    *,
    proposal: Proposal,
    member: Membership,
    choice: str,
    payload_of: Callable[[Proposal, str], dict],
    selection: list[str] | None = None,
    now: datetime | None = None,
    append: Callable[[], Transaction] | None = None,
) -> Ballot:
    """The one path of every vote (yes/no and participatory budget): lock, check the
    deadline and the electorate, write the signed transaction, then the ballot.
    `payload_of(locked_proposal, college_slug)` gives the ledger payload, or refuses."""
    now = now or timezone.now()
    # Votes and the close queue on the proposal row, taken first (then the ballot, then the
    # chain head): a vote on the ledger before the close is in its tally, a vote after it is
    # refused, and a first vote racing a change of vote cannot deadlock.
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("rules", "city__chain")
        .get(pk=proposal.pk)
    )
    if (
        proposal.status != ProposalStatus.OPEN
        or not proposal.closes_at
        or now >= proposal.closes_at
    ):
        raise VoteClosed()
    seat = (
        ElectorateEntry.objects.select_related("membership__identity", "college")
        .filter(proposal=proposal, membership=member)
        .first()
    )
    # The membership's status as stored, not as the caller's copy remembers it.
    if seat is None or seat.membership.status != MembershipStatus.APPROVED:
        raise NotInElectorate()
    existing = Ballot.objects.select_for_update().filter(proposal=proposal, membership=member)
    ballot = existing.first()
    if ballot is not None and not proposal.rules.rules["vote_changeable"]:
        raise VoteNotChangeable()
    payload = payload_of(proposal, seat.college.slug)
    if append is None:
        entry = ledger_append(
            chain=proposal.city.chain,
            actor=member.identity,
            kind="governance.vote.cast",
            payload=payload,
        )
    else:
        entry = append()
        if (
            entry.actor != seat.membership.identity.did
            or entry.kind != "governance.vote.cast"
            or entry.payload != payload
            or entry.chain_id != proposal.city.chain_id
        ):
            raise NotAllowed(_("The signed vote is not this member’s vote on this proposal."))
    if ballot is None:
        try:
            with transaction.atomic():
                ballot = Ballot.objects.create(
                    proposal=proposal,
                    membership=member,
                    college_id=seat.college_id,
                    choice=choice,
                    selection=selection or [],
                    entry=entry,
                )
        except IntegrityError:
            # A concurrent first vote of the same member won: this one is a change of vote.
            if not proposal.rules.rules["vote_changeable"]:
                raise VoteNotChangeable() from None
            ballot = Ballot.objects.select_for_update().get(proposal=proposal, membership=member)
    if ballot.entry_id != entry.pk:
        ballot.choice = choice
        ballot.selection = selection or []
        ballot.entry = entry
        ballot.save(update_fields=["choice", "selection", "entry", "cast_at"])
    # What the caller renders next (receipt, API answer) without reloading it.
    ballot.proposal, ballot.membership, ballot.college = proposal, seat.membership, seat.college
    return ballot


def ballot_counts(proposal: Proposal) -> dict[str, dict[str, int]]:
    """Ballots per college and choice: one aggregate query."""
    counts: dict[str, dict[str, int]] = {}
    rows = (
        Ballot.objects.filter(proposal=proposal)
        .values_list("college__slug", "choice")
        .annotate(n=Count("id"))
        .order_by()
    )
    for college, choice, n in rows:
        counts.setdefault(college, {})[choice] = n
    return counts


@transaction.atomic
def proposal_close(*, proposal: Proposal, now: datetime | None = None) -> Proposal:
    """Close a vote at (or after) its deadline and record the tally. Idempotent."""
    now = now or timezone.now()
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the join to rules.
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("rules", "city")
        .get(pk=proposal.pk)
    )
    if proposal.status != ProposalStatus.OPEN:
        return proposal
    if now < proposal.closes_at:
        raise WrongState(_("The vote is still open."))
    if "budget_cents" in (proposal.parameters or {}):
        from .budget import budget_tally

        tally = budget_tally(proposal)
    else:
        tally = compute_tally(
            rules=proposal.rules.rules,
            electorate=proposal.electorate_sizes,
            counts=ballot_counts(proposal),
        )
    proposal.tally = tally
    proposal.closed_at = now
    proposal.status = ProposalStatus.ACCEPTED if tally["accepted"] else ProposalStatus.REJECTED
    proposal.save(update_fields=["tally", "closed_at", "status"])
    ledger_append(
        chain=proposal.city.chain,
        actor=proposal.city.identity,
        kind="governance.proposal.close",
        payload={"proposal": proposal.public_id, "outcome": proposal.status, "tally": tally},
    )
    from .tasks import notify_proposal_closed

    outbox_enqueue(notify_proposal_closed, proposal.pk)
    if proposal.status == ProposalStatus.ACCEPTED:
        from .tasks import execute_proposal

        outbox_enqueue(execute_proposal, proposal.pk)
    return proposal


@transaction.atomic
def proposal_execute(*, proposal: Proposal) -> Proposal:
    """Carry out an accepted proposal's effect, once. A failure is recorded with its reason."""
    proposal = Proposal.objects.select_for_update().select_related("city").get(pk=proposal.pk)
    if proposal.status != ProposalStatus.ACCEPTED:
        return proposal
    try:
        with transaction.atomic():
            effect = execute_registered(proposal)
            if effect is None:
                effect = EFFECTS.get(proposal.kind, _no_effect)(proposal)
            proposal.status = ProposalStatus.EXECUTED
            proposal.executed_at = timezone.now()
            proposal.save(update_fields=["status", "executed_at"])
            ledger_append(
                chain=proposal.city.chain,
                actor=proposal.city.identity,
                kind="governance.proposal.execute",
                payload={"proposal": proposal.public_id, **effect},
            )
    except (InsufficientFunds, InvalidRules, EffectFailed) as error:
        proposal.status = ProposalStatus.FAILED
        proposal.failure_reason = error.message
        proposal.save(update_fields=["status", "failure_reason"])
        ledger_append(
            chain=proposal.city.chain,
            actor=proposal.city.identity,
            kind="governance.proposal.fail",
            payload={"proposal": proposal.public_id, "reason": error.code},
        )
    return proposal


def _no_effect(proposal: Proposal) -> dict:
    return {"effect": "none"}


def _amend_rules(proposal: Proposal) -> dict:
    city = proposal.city
    slugs = set(city.colleges.values_list("slug", flat=True))
    rules = validate_rules(proposal.parameters["rules"], college_slugs=slugs)
    current = rules_in_force(city)
    version = RulesVersion.objects.create(
        city=city,
        version=current.version + 1,
        rules=rules,
        digest=rules_digest(rules),
        adopted_by=proposal,
    )
    ledger_append(
        chain=city.chain,
        actor=city.identity,
        kind="governance.rules.adopt",
        payload={
            "city": city.slug,
            "version": version.version,
            "rules": rules,
            "digest": version.digest,
            "proposal": proposal.public_id,
        },
    )
    effect = {"effect": "rules_adopted", "version": version.version}
    if "validators" in rules and rules["validators"] != current.rules.get("validators"):
        from ledger.validators import validator_set_schedule

        change = validator_set_schedule(
            chain=city.chain,
            members=rules["validators"]["members"],
            quorum=rules["validators"]["quorum"],
            actor=city.identity,
        )
        effect["validators_from_height"] = change.effective_height
    return effect


def _fund_project(proposal: Proposal) -> dict:
    if "budget_cents" in proposal.parameters:
        from .budget import budget_pay

        return budget_pay(proposal)
    amount = proposal.parameters["amount_cents"]
    movement = treasury_move(
        city=proposal.city,
        label=proposal.title[:200],
        postings=[("project-payouts", amount), ("bank", -amount)],
        proposal=proposal,
    )
    return {
        "effect": "paid",
        "amount_cents": amount,
        "movement": movement.public_id,
        "recipient": proposal.parameters["recipient"],
    }


def _become_independent(proposal: Proposal) -> dict:
    city = proposal.city
    city.independent_at = timezone.now()
    city.save(update_fields=["independent_at"])
    return {"effect": "independent", "chain": city.chain.slug}


EFFECTS = {
    ProposalKind.AMEND_RULES: _amend_rules,
    ProposalKind.FUND_PROJECT: _fund_project,
    ProposalKind.BECOME_INDEPENDENT: _become_independent,
}


@transaction.atomic
def comment_add(*, proposal: Proposal, member: Membership, body: str) -> Comment:
    # The states as stored: the vote may have closed since the caller loaded it.
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("city__chain")
        .get(pk=proposal.pk)
    )
    member = Membership.objects.select_related("identity", "college").get(pk=member.pk)
    if not member.is_approved or member.city_id != proposal.city_id:
        raise NotAllowed()
    # A draft is debated by those who can see it: its author and the municipality staff.
    if proposal.status == ProposalStatus.DRAFT and not (
        proposal.author_id == member.pk or member.college.kind == CollegeKind.MUNICIPALITY
    ):
        raise NotAllowed()
    if proposal.status not in (ProposalStatus.DRAFT, ProposalStatus.OPEN):
        raise WrongState(_("The debate is closed."))
    body = body.strip()
    if not body:
        raise InvalidInput(_("A comment cannot be empty."))
    entry = ledger_append(
        chain=proposal.city.chain,
        actor=member.identity,
        kind="governance.comment.add",
        payload={"proposal": proposal.public_id, "content": sha256_text(body)},
    )
    return Comment.objects.create(proposal=proposal, membership=member, body=body, entry=entry)


# --- treasury -------------------------------------------------------------------------


def account_balance(account: Account) -> int:
    from django.db.models import Sum

    return account.postings.aggregate(total=Sum("amount_cents"))["total"] or 0


@transaction.atomic
def treasury_move(
    *, city: City, label: str, postings: list[tuple[str, int]], proposal: Proposal | None = None
) -> Movement:
    """A balanced movement (debits positive, credits negative, summing to zero), on the
    ledger. Money leaves the bank only through an executed proposal."""
    if not postings or any(type(a) is not int or a == 0 for _, a in postings):
        raise InvalidRules("postings are non-zero integer cents")
    if sum(amount for _, amount in postings) != 0:
        raise InvalidRules("a movement's postings sum to zero")
    accounts = {a.code: a for a in Account.objects.select_for_update().filter(city=city)}
    if any(code not in accounts for code, _ in postings):
        raise InvalidRules("unknown account")
    bank_out = -sum(amount for code, amount in postings if code == "bank" and amount < 0)
    if bank_out:
        # Only the execution of an accepted fund_project of this city, and only once.
        if (
            proposal is None
            or not Proposal.objects.filter(
                pk=proposal.pk,
                city=city,
                kind=ProposalKind.FUND_PROJECT,
                status=ProposalStatus.ACCEPTED,
            ).exists()
            or Movement.objects.filter(proposal=proposal).exists()
        ):
            raise NotAllowed(_("Money leaves the treasury only through an executed proposal."))
        if account_balance(accounts["bank"]) < bank_out:
            raise InsufficientFunds()
    entry = ledger_append(
        chain=city.chain,
        actor=city.identity,
        kind="governance.treasury.move",
        payload={
            "postings": [{"account": code, "amount_cents": amount} for code, amount in postings],
            "proposal": proposal.public_id if proposal else None,
            "label": sha256_text(label),
        },
    )
    movement = Movement.objects.create(city=city, label=label, proposal=proposal, entry=entry)
    Posting.objects.bulk_create(
        Posting(movement=movement, account=accounts[code], amount_cents=amount)
        for code, amount in postings
    )
    return movement


def due_proposals(now: datetime | None = None):
    return Proposal.objects.filter(status=ProposalStatus.OPEN, closes_at__lte=now or timezone.now())

"""The only writers of the cooperative's state: its body, admissions and the share register.

The cooperative's governance is a `governance.City` row flagged `is_network_body` whose chain
is the network chain: its proposals, ballots, tallies, closes and executions are governance's
own services, so every vote of the cooperative is on the network chain. This module adds the
register: each movement is signed by the member's DID on the network chain, in the same
database transaction as the holdings it changes. A holding is read-modify-written under a row
lock and the database refuses a negative one (`holding_never_negative`).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.errors import InvalidInput, NotAllowed, WrongState
from governance.models import (
    City,
    College,
    CollegeKind,
    Membership,
    MembershipStatus,
    Proposal,
    ProposalStatus,
    RulesVersion,
)
from governance.rules import validate_rules
from governance.services import rules_digest, rules_in_force, signer_of
from identity.models import User
from identity.services import credential_issue, credential_revoke, identity_create_custodial
from ledger.models import NETWORK_CHAIN_SLUG
from ledger.services import chain_create, ledger_append

from .errors import (
    InsufficientShares,
    NoCooperative,
    NoSuchMember,
    NotAMember,
    SubscriptionPending,
)
from .models import Holding, MovementKind, MovementStatus, ShareClass, ShareMovement
from .rules import COLLEGES, default_rules, section, validate_section

SERVICE_USERNAME = "cooperative-network"
DEFAULT_SHARE_CLASS = "a"
DEFAULT_NOMINAL_CENTS = 10_000  # 100 € per share
MAX_SHARES_PER_MOVEMENT = 1_000_000


# --- the body ---------------------------------------------------------------------------


def cooperative_body() -> City | None:
    """The operator's cooperative governance body, or None before `cooperative_setup`."""
    return City.all_bodies.select_related("chain", "identity").filter(is_network_body=True).first()


def body_required() -> City:
    body = cooperative_body()
    if body is None:
        raise NoCooperative()
    return body


def _movements_serialised(body: City) -> None:
    """Share movements queue on the cooperative's row, one at a time: each touches two or
    three holdings, the members' rows and the network chain's head, and crossed transfers,
    withdrawals and departures taking those in different orders deadlocked under load
    (tests/cooperative/test_concurrency.py). Movements are rare; a queue costs nothing."""
    City.all_bodies.select_for_update(no_key=True).filter(pk=body.pk).first()


@transaction.atomic
def cooperative_setup(
    *, operator: User, nominal_cents: int = DEFAULT_NOMINAL_CENTS, name: str = "SMART B"
) -> City:
    """Create the cooperative (idempotent): its DID, four colleges, rules v1 and share class,
    bound to the network chain. The operator signs the creation on the network chain."""
    if not operator.is_staff:
        raise NotAllowed(_("Only the operator sets up the cooperative."))
    existing = cooperative_body()
    if existing is not None:
        return existing
    chain = chain_create(slug=NETWORK_CHAIN_SLUG, name="SMART B network")
    service_account = User.objects.filter(username=SERVICE_USERNAME).first()
    if service_account is None:
        service_account = User.objects.create_user(
            username=SERVICE_USERNAME, email="", password=None, is_active=False
        )
    identity = service_account.primary_identity or identity_create_custodial(
        user=service_account, primary=True
    )
    body = City.all_bodies.create(
        slug=NETWORK_CHAIN_SLUG,
        name=name,
        chain=chain,
        identity=identity,
        postal_codes=[],
        is_network_body=True,
    )
    for position, (slug, kind, _weight, _quorum) in enumerate(COLLEGES):
        College.objects.create(
            city=body, slug=slug, name=CollegeKind(kind).label, kind=kind, position=position
        )
    rules = validate_rules(default_rules(), college_slugs={slug for slug, *_ in COLLEGES})
    validate_section(rules["cooperative"])
    version = RulesVersion.objects.create(
        city=body, version=1, rules=rules, digest=rules_digest(rules)
    )
    share_class, _created = ShareClass.objects.get_or_create(
        code=DEFAULT_SHARE_CLASS,
        defaults={"name": "Parts sociales", "nominal_cents": nominal_cents},
    )
    ledger_append(
        chain=chain,
        actor=signer_of(operator),
        kind="cooperative.body.create",
        payload={
            "body": body.slug,
            "identity": identity.did,
            "share_class": share_class.code,
            "nominal_cents": share_class.nominal_cents,
        },
    )
    ledger_append(
        chain=chain,
        actor=identity,
        kind="governance.rules.adopt",
        payload={"city": body.slug, "version": 1, "rules": rules, "digest": version.digest},
    )
    return body


def cooperative_rules(body: City) -> dict:
    """The cooperative section of the rules in force."""
    return section(rules_in_force(body).rules)


def member_of(user, body: City) -> Membership | None:
    """`user`'s approved membership of the cooperative, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.select_related("college", "identity")
        .filter(city=body, user=user, status=MembershipStatus.APPROVED)
        .first()
    )


def is_board(user) -> bool:
    """The board: the operator's staff accounts."""
    return bool(getattr(user, "is_authenticated", False) and user.is_staff)


def _share_class(code: str | None) -> ShareClass:
    share_class = ShareClass.objects.filter(code=code or DEFAULT_SHARE_CLASS).first()
    if share_class is None:
        raise InvalidInput(_("No such share class."))
    return share_class


def _check_counts(*, shares, horizon_years, body: City) -> None:
    if type(shares) is not int or not 1 <= shares <= MAX_SHARES_PER_MOVEMENT:
        raise InvalidInput(
            _("A number of shares is a whole number from 1 to %(max)s.")
            % {"max": MAX_SHARES_PER_MOVEMENT}
        )
    longest = cooperative_rules(body)["max_horizon_years"]
    if type(horizon_years) is not int or not 0 <= horizon_years <= longest:
        raise InvalidInput(
            _("The horizon is a whole number of years from 0 to %(max)s.") % {"max": longest}
        )


def _locked_holding(membership: Membership, share_class: ShareClass, horizon: int) -> Holding:
    holding, _created = Holding.objects.get_or_create(
        membership=membership, share_class=share_class, horizon_years=horizon
    )
    return Holding.objects.select_for_update().get(pk=holding.pk)


def total_shares(membership: Membership) -> int:
    return Holding.objects.filter(membership=membership).aggregate(n=Sum("shares"))["n"] or 0


# --- admission ----------------------------------------------------------------------------


def _admit(*, body: City, user: User, college: College, by: User | None, signer) -> Membership:
    """Make `user` an approved member of `college`; the cooperative's DID issues the
    membership credential."""
    existing = member_of(user, body)
    if existing is not None:
        return existing
    membership = Membership.objects.create(
        city=body,
        college=college,
        user=user,
        identity=signer_of(user),
        status=MembershipStatus.APPROVED,
        decided_at=timezone.now(),
        decided_by=by,
    )
    membership.credential = credential_issue(
        issuer=body.identity,
        subject_did=membership.identity.did,
        types=["VerifiableCredential", "CooperativeMembershipCredential"],
        claims={
            "cooperative": body.slug,
            "college": college.slug,
            "membership": membership.public_id,
        },
        chain=body.chain.slug,
    )
    membership.save(update_fields=["credential"])
    ledger_append(
        chain=body.chain,
        actor=signer,
        kind="cooperative.member.admit",
        payload={
            "membership": membership.public_id,
            "member": membership.identity.did,
            "college": college.slug,
            "credential": membership.credential.digest,
        },
    )
    return membership


def _leave_if_empty(membership: Membership, body: City) -> bool:
    """A member who no longer holds any share leaves the cooperative."""
    if total_shares(membership) > 0:
        return False
    membership = Membership.objects.select_for_update(no_key=True).get(pk=membership.pk)
    membership.status = MembershipStatus.REVOKED
    membership.decided_at = timezone.now()
    membership.reason = "left"
    membership.save(update_fields=["status", "decided_at", "reason"])
    if membership.credential_id:
        credential_revoke(
            credential=membership.credential,
            by=body.identity,
            reason="membership-left",
            chain=body.chain.slug,
        )
    ledger_append(
        chain=body.chain,
        actor=membership.identity,
        kind="cooperative.member.leave",
        payload={
            "membership": membership.public_id,
            "member": membership.identity.did,
            "college": membership.college.slug,
        },
    )
    return True


# --- the share register ---------------------------------------------------------------------


def _movement_payload(movement: ShareMovement, **extra) -> dict:
    return {
        "movement": movement.public_id,
        "class": movement.share_class.code,
        "shares": movement.shares,
        "horizon_years": movement.horizon_years,
        "amount_cents": movement.amount_cents,
        **extra,
    }


@transaction.atomic
def share_subscribe(
    *,
    user: User,
    shares: int,
    horizon_years: int,
    college: College | None = None,
    share_class: str | None = None,
) -> ShareMovement:
    """Subscribe shares at nominal, signed by the subscriber's DID.

    A member's subscription is recorded at once. A newcomer names the college they ask to
    join; the subscription waits until the board admits it (rules: `admission: board`) or an
    accepted `admit_member` vote does (`admission: vote`)."""
    body = body_required()
    _check_counts(shares=shares, horizon_years=horizon_years, body=body)
    shares_of = _share_class(share_class)
    identity = signer_of(user)
    member = member_of(user, body)
    movement = ShareMovement(
        kind=MovementKind.SUBSCRIBE,
        share_class=shares_of,
        shares=shares,
        horizon_years=horizon_years,
        amount_cents=shares * shares_of.nominal_cents,
        user=user,
        to_membership=member,
    )
    if member is None:
        if college is None or college.city_id != body.pk:
            raise InvalidInput(_("Choose the college you ask to join."))
        if ShareMovement.objects.filter(user=user, status=MovementStatus.PENDING).exists():
            raise SubscriptionPending()
        movement.status = MovementStatus.PENDING
        movement.college = college
        extra = {"member": identity.did, "college": college.slug, "status": "pending"}
    else:
        movement.status = MovementStatus.DONE
        movement.college = member.college
        movement.decided_at = timezone.now()
        holding = _locked_holding(member, shares_of, horizon_years)
        holding.shares += shares
        holding.save(update_fields=["shares"])
        extra = {"member": identity.did, "college": member.college.slug, "status": "done"}
    movement.entry = ledger_append(
        chain=body.chain,
        actor=identity,
        kind="cooperative.share.subscribe",
        payload=_movement_payload(movement, **extra),
    )
    try:
        with transaction.atomic():
            movement.save()
    except IntegrityError as error:  # a concurrent request of the same newcomer won
        raise SubscriptionPending() from error
    return movement


@transaction.atomic
def subscription_admit(
    *, movement: ShareMovement, by: User | None = None, proposal: Proposal | None = None
) -> ShareMovement:
    """Admit a newcomer's pending subscription: by the board when the rules say `board`, or
    by the execution of an accepted `admit_member` proposal. The shares are then issued."""
    body = body_required()
    movement = ShareMovement.objects.select_for_update().get(pk=movement.pk)
    if movement.status != MovementStatus.PENDING:
        raise WrongState(_("This subscription is not waiting for admission."))
    if proposal is None:
        if not is_board(by):
            raise NotAllowed(_("Only the board admits new members."))
        if cooperative_rules(body)["admission"] != "board":
            raise NotAllowed(_("The rules say new members are admitted by a vote."))
        signer = signer_of(by)
    else:
        if (
            proposal.city_id != body.pk
            or proposal.kind != "admit_member"
            or proposal.status != ProposalStatus.ACCEPTED
            or proposal.parameters.get("subscription") != movement.public_id
        ):
            raise NotAllowed(_("This vote does not admit this subscription."))
        signer = body.identity
    membership = _admit(
        body=body, user=movement.user, college=movement.college, by=by, signer=signer
    )
    holding = _locked_holding(membership, movement.share_class, movement.horizon_years)
    holding.shares += movement.shares
    holding.save(update_fields=["shares"])
    movement.status = MovementStatus.DONE
    movement.to_membership = membership
    movement.proposal = proposal
    movement.decided_by = by
    movement.decided_at = timezone.now()
    movement.decision_entry = ledger_append(
        chain=body.chain,
        actor=signer,
        kind="cooperative.share.admit",
        payload=_movement_payload(
            movement,
            member=membership.identity.did,
            membership=membership.public_id,
            proposal=proposal.public_id if proposal else None,
        ),
    )
    movement.save()
    return movement


@transaction.atomic
def subscription_refuse(*, movement: ShareMovement, by: User) -> ShareMovement:
    """The board refuses a pending subscription (the subscriber may also withdraw their own
    request); nothing is issued."""
    body = body_required()
    movement = ShareMovement.objects.select_for_update().get(pk=movement.pk)
    if movement.status != MovementStatus.PENDING:
        raise WrongState(_("This subscription is not waiting for admission."))
    if not (is_board(by) or movement.user_id == by.pk):
        raise NotAllowed(_("Only the board or the subscriber can do this."))
    movement.status = MovementStatus.REFUSED
    movement.decided_by = by
    movement.decided_at = timezone.now()
    movement.decision_entry = ledger_append(
        chain=body.chain,
        actor=signer_of(by),
        kind="cooperative.share.refuse",
        payload={"movement": movement.public_id},
    )
    movement.save(update_fields=["status", "decided_by", "decided_at", "decision_entry"])
    return movement


@transaction.atomic
def share_transfer(
    *,
    user: User,
    to_did: str,
    shares: int,
    horizon_years: int,
    share_class: str | None = None,
) -> ShareMovement:
    """Transfer shares to another member (the commitment horizon goes with them), signed by
    the sender's DID. A member who gives away their last share leaves the cooperative."""
    body = body_required()
    _movements_serialised(body)
    _check_counts(shares=shares, horizon_years=horizon_years, body=body)
    shares_of = _share_class(share_class)
    sender = member_of(user, body)
    if sender is None:
        raise NotAMember()
    receiver = (
        Membership.objects.select_related("identity", "college")
        .filter(city=body, status=MembershipStatus.APPROVED, identity__did=to_did)
        .first()
    )
    if receiver is None:
        raise NoSuchMember()
    if receiver.pk == sender.pk:
        raise InvalidInput(_("You cannot transfer shares to yourself."))
    source = Holding.objects.filter(
        membership=sender, share_class=shares_of, horizon_years=horizon_years
    ).first()
    if source is None:
        raise InsufficientShares()
    target, _created = Holding.objects.get_or_create(
        membership=receiver, share_class=shares_of, horizon_years=horizon_years
    )
    # Both rows locked in one order (by key), so crossed transfers cannot deadlock.
    locked = {
        h.pk: h for h in Holding.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.shares < shares:
        raise InsufficientShares()
    source.shares -= shares
    target.shares += shares
    source.save(update_fields=["shares"])
    target.save(update_fields=["shares"])
    movement = ShareMovement(
        kind=MovementKind.TRANSFER,
        status=MovementStatus.DONE,
        share_class=shares_of,
        shares=shares,
        horizon_years=horizon_years,
        amount_cents=shares * shares_of.nominal_cents,
        user=user,
        from_membership=sender,
        to_membership=receiver,
        decided_at=timezone.now(),
    )
    movement.entry = ledger_append(
        chain=body.chain,
        actor=sender.identity,
        kind="cooperative.share.transfer",
        payload=_movement_payload(
            movement, **{"from": sender.identity.did, "to": receiver.identity.did}
        ),
    )
    movement.save()
    _leave_if_empty(sender, body)
    return movement


@transaction.atomic
def share_withdraw(
    *, user: User, shares: int, horizon_years: int, share_class: str | None = None
) -> ShareMovement:
    """Redeem shares at nominal (variable capital), signed by the member's DID. A member who
    redeems their last share leaves the cooperative."""
    body = body_required()
    _movements_serialised(body)
    _check_counts(shares=shares, horizon_years=horizon_years, body=body)
    shares_of = _share_class(share_class)
    member = member_of(user, body)
    if member is None:
        raise NotAMember()
    holding = (
        Holding.objects.select_for_update()
        .filter(membership=member, share_class=shares_of, horizon_years=horizon_years)
        .first()
    )
    if holding is None or holding.shares < shares:
        raise InsufficientShares()
    holding.shares -= shares
    holding.save(update_fields=["shares"])
    movement = ShareMovement(
        kind=MovementKind.WITHDRAW,
        status=MovementStatus.DONE,
        share_class=shares_of,
        shares=shares,
        horizon_years=horizon_years,
        amount_cents=shares * shares_of.nominal_cents,
        user=user,
        from_membership=member,
        decided_at=timezone.now(),
    )
    movement.entry = ledger_append(
        chain=body.chain,
        actor=member.identity,
        kind="cooperative.share.withdraw",
        payload=_movement_payload(movement, member=member.identity.did),
    )
    movement.save()
    _leave_if_empty(member, body)
    return movement

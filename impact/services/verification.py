"""Curators and their decisions on claims.

A curator is a role the city's municipality staff grant to an approved member (any
college) and may revoke. A curator recomputes the claim's quantity from its measured values
(the service checks the recomputation matches the methodology), then approves, rejects with
a reason code, or disputes. Never their own claim (made, created or submitted by them);
never a claim whose required evidence is missing. An approval is a W3C VC 2.0 credential
(eddsa-jcs-2022) signed by the curator's DID, whose subject is the claim and its quantity;
its digest goes on the city's chain, and the tokens are issued at once.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import City, Membership, MembershipStatus
from identity.models import User
from identity.services import credential_issue

from .. import marketplace
from ..compute import compute_quantity, missing_requirements
from ..errors import (
    InvalidInput,
    MissingEvidence,
    NotCurator,
    OwnClaim,
    QuantityMismatch,
    WrongState,
)
from ..models import (
    Claim,
    ClaimState,
    Curator,
    Decision,
    Evidence,
    Payable,
    PayableKind,
    RejectReason,
    Verification,
)
from ..permissions import curator_of, made_claim
from ._common import portfolio_for, positive_int, record, require_staff, signer_of
from .rollup import rollup_claim_state
from .tokens import batch_issue

CREDENTIAL_TYPES = ["VerifiableCredential", "ImpactCertificateCredential"]


@transaction.atomic
def curator_grant(*, city: City, membership: Membership, by: User) -> Curator:
    """Municipality staff make an approved member of the city a curator."""
    require_staff(by, city)
    membership = Membership.objects.select_related("identity").get(pk=membership.pk)
    if membership.city_id != city.pk or membership.status != MembershipStatus.APPROVED:
        raise InvalidInput(_("A curator is an approved member of this city."))
    curator = Curator(city=city, membership=membership, granted_by=by)
    curator.entry = record(
        chain=city.chain,
        actor=signer_of(by),
        kind="impact.curator.grant",
        payload={
            "curator": curator.public_id,
            "membership": membership.public_id,
            "member": membership.identity.did,
        },
    )
    try:
        with transaction.atomic():
            curator.save()
    except IntegrityError as error:
        raise WrongState(_("This member is already a curator.")) from error
    return curator


@transaction.atomic
def curator_revoke(*, curator: Curator, by: User) -> Curator:
    curator = Curator.objects.select_for_update().select_related("city__chain").get(pk=curator.pk)
    require_staff(by, curator.city)
    if curator.revoked_at is not None:
        raise WrongState(_("This curator role is already revoked."))
    curator.revoked_at = timezone.now()
    curator.save(update_fields=["revoked_at"])
    record(
        chain=curator.city.chain,
        actor=signer_of(by),
        kind="impact.curator.revoke",
        payload={"curator": curator.public_id},
    )
    return curator


@transaction.atomic
def claim_bounty_post(*, claim: Claim, by: User, reward_cents: int) -> Claim:
    """Municipality staff put a reward on verifying `claim`: a city-paid "verify_claim"
    task of the app store's bounties when it has them (the curator who decides gets it, the
    staff pay it with `task_pay`); otherwise the reward is recorded here and owed to the
    deciding curator as a Payable."""
    claim = (
        Claim.objects.select_for_update(of=("self",)).select_related("city__chain").get(pk=claim.pk)
    )
    require_staff(by, claim.city)
    positive_int(reward_cents, what=_("The reward"))
    if claim.state not in (ClaimState.SUBMITTED, ClaimState.DISPUTED):
        raise WrongState(_("Only a claim waiting for a decision gets a bounty."))
    if claim.bounty_cents or claim.bounty_task_ref:
        raise WrongState(_("This claim already has a bounty."))
    claim.bounty_task_ref = marketplace.bounty_post(claim=claim, by=by, reward_cents=reward_cents)
    claim.bounty_task_ref = claim.bounty_task_ref or ""
    claim.bounty_cents = reward_cents
    claim.save(update_fields=["bounty_task_ref", "bounty_cents"])
    record(
        chain=claim.city.chain,
        actor=signer_of(by),
        kind="impact.claim.bounty",
        payload={
            "claim": claim.public_id,
            "reward_cents": reward_cents,
            "task": claim.bounty_task_ref or None,
        },
    )
    return claim


def certificate_claims(claim: Claim) -> dict:
    """The credential subject's claims (besides `id`, the claimant's DID)."""
    evidence = sorted(Evidence.objects.filter(claim=claim).values_list("sha256", flat=True))
    return {
        "impactClaim": claim.public_id,
        "city": claim.city.slug,
        "sdgIndicator": claim.indicator.code,
        "methodology": claim.methodology.code,
        "methodologyVersion": claim.methodology.version,
        "methodologyDigest": claim.methodology.digest,
        "parametersDigest": claim.parameters_digest,
        "quantity": claim.quantity,
        "unit": claim.token_class.smallest_unit,
        "tokenClass": claim.token_class.code,
        "periodStart": claim.period_start.isoformat(),
        "periodEnd": claim.period_end.isoformat(),
        "district": claim.district_code,
        "evidence": evidence,
    }


def _bounty_settle(claim: Claim, curator: Curator, verification: Verification) -> None:
    if not claim.bounty_cents:
        return
    user = curator.membership.user
    if claim.bounty_task_ref and marketplace.bounty_complete(
        task_ref=claim.bounty_task_ref, curator_user=user, result=verification.public_id
    ):
        verification.bounty_task_ref = claim.bounty_task_ref
        verification.save(update_fields=["bounty_task_ref"])
        return
    if claim.bounty_task_ref:
        return  # the task was taken or cancelled in the app store: it decides
    portfolio = portfolio_for(city=claim.city, user=user)
    payable = Payable(
        city=claim.city,
        kind=PayableKind.BOUNTY,
        payee=portfolio,
        payee_did=portfolio.identity.did,
        amount_cents=claim.bounty_cents,
    )
    payable.entry = record(
        chain=claim.city.chain,
        actor=claim.city.identity,
        kind="impact.payable.create",
        payload={
            "payable": payable.public_id,
            "kind": payable.kind,
            "payee": payable.payee_did,
            "amount_cents": payable.amount_cents,
            "source": verification.public_id,
        },
    )
    payable.save()
    verification.reward_owed_cents = claim.bounty_cents
    verification.save(update_fields=["reward_owed_cents"])


@transaction.atomic
def claim_verify(
    *,
    claim: Claim,
    by: User,
    decision: str,
    recomputed_quantity: int,
    reason_code: str = "",
) -> Verification:
    """A curator's decision on a submitted (or disputed) claim.

    The curator's `recomputed_quantity` must equal what the methodology gives for the
    claim's measured values (QuantityMismatch otherwise). `approve` needs every required
    evidence (MissingEvidence) and a quantity the claim states correctly; it issues the
    credential signed by the curator's DID and the batch of tokens. `reject` needs a reason
    code; `dispute` keeps the claim open for another decision.
    """
    claim = (
        Claim.objects.select_for_update(of=("self",))
        .select_related(
            "city__chain",
            "city__identity",
            "claimant__identity",
            "claimant__college",
            "claimant__user",
            "methodology__token_class",
            "token_class",
            "indicator",
            "batch",
        )
        .get(pk=claim.pk)
    )
    curator = curator_of(by, claim.city)
    if curator is None:
        raise NotCurator()
    if made_claim(by, claim):
        raise OwnClaim()
    if claim.state not in (ClaimState.SUBMITTED, ClaimState.DISPUTED):
        raise WrongState(_("This claim is not waiting for a decision."))
    if decision not in Decision.values:
        raise InvalidInput(_("A decision is approve, reject or dispute."))
    if reason_code and reason_code not in RejectReason.values:
        raise InvalidInput(_("Unknown reason code."))
    if decision == Decision.REJECT and not reason_code:
        raise InvalidInput(_("A rejection gives a reason code."))
    if type(recomputed_quantity) is not int:
        raise InvalidInput(_("The recomputed quantity is a whole number of the smallest unit."))
    expected = compute_quantity(claim.methodology, claim.parameters)
    if recomputed_quantity != expected:
        raise QuantityMismatch(
            _("Your recomputation gives %(yours)s, the methodology gives %(expected)s.")
            % {"yours": recomputed_quantity, "expected": expected}
        )
    identity = curator.membership.identity  # the curator's DID signs (custodial here)
    credential = None
    if decision == Decision.APPROVE:
        if claim.quantity != expected:
            raise QuantityMismatch(_("The claim's quantity does not follow its methodology."))
        if claim.quantity < 1:
            raise WrongState(_("This claim measures nothing to issue."))
        missing = missing_requirements(claim)
        if missing:
            raise MissingEvidence(
                _("Evidence missing for: %(codes)s.") % {"codes": ", ".join(missing)}
            )
        credential = credential_issue(
            issuer=identity,
            subject_did=claim.claimant.identity.did,
            types=CREDENTIAL_TYPES,
            claims=certificate_claims(claim),
            chain=claim.city.chain.slug,
        )
    verification = Verification(
        claim=claim,
        curator=curator,
        decision=decision,
        reason_code=reason_code,
        recomputed_quantity=recomputed_quantity,
        credential=credential,
    )
    verification.entry = record(
        chain=claim.city.chain,
        actor=identity,
        kind="impact.claim.verify",
        payload={
            "claim": claim.public_id,
            "verification": verification.public_id,
            "decision": decision,
            "reason": reason_code or None,
            "quantity": recomputed_quantity,
            "credential": credential.digest if credential else None,
        },
    )
    verification.save()
    was = claim.state
    claim.state = {
        Decision.APPROVE: ClaimState.APPROVED,
        Decision.REJECT: ClaimState.REJECTED,
        Decision.DISPUTE: ClaimState.DISPUTED,
    }[decision]
    claim.reason_code = reason_code
    claim.decided_at = timezone.now()
    claim.save(update_fields=["state", "reason_code", "decided_at"])
    rollup_claim_state(claim=claim, was=was)
    if credential is not None:
        batch_issue(claim=claim, credential=credential)
    if decision != Decision.DISPUTE:
        _bounty_settle(claim, curator, verification)
    return verification

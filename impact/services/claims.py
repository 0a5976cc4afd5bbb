"""Impact claims: a member's own claims (draft → submitted), their evidence, and the batch
submission by a deployed service on behalf of its users, signed by the provider's DID.

The ledger holds, for each claim, public ids, DIDs, the methodology's digest, the digest of
the measured values, the quantity (an integer) and the period; evidence by its SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import City, Membership, MembershipStatus
from identity.models import Identity, User
from ledger.models import Transaction

from .. import marketplace
from ..compute import clean_parameters, compute_quantity
from ..errors import InvalidInput, NotAllowed, WrongState
from ..models import (
    Claim,
    ClaimBatch,
    ClaimState,
    Evidence,
    EvidenceKind,
    EvidenceType,
    Methodology,
    MethodologyStatus,
)
from ..permissions import can_edit_claim
from ._common import HEX64, TOKEN, record, sha256_json, signer_of
from .rollup import rollup_claim_state, rollup_claims_created

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_BATCH = 500


def _period(start, end) -> tuple[date, date]:
    if not isinstance(start, date) or not isinstance(end, date):
        raise InvalidInput(_("A period has a start date and an end date."))
    if end < start:
        raise InvalidInput(_("The period ends before it starts."))
    if end > timezone.localdate():
        raise InvalidInput(_("A claim measures a period that has ended, not the future."))
    return start, end


def _district(code) -> str:
    code = (code or "").strip() if isinstance(code, str) else None
    if code is None or (code and not TOKEN.match(code)):
        raise InvalidInput(_("A district is a code (letters, digits, '-', '.', '_')."))
    return code


def _methodology(methodology: Methodology) -> Methodology:
    methodology = (
        Methodology.objects.select_related("indicator", "token_class")
        .prefetch_related("parameters", "factors")
        .get(pk=methodology.pk)
    )
    if methodology.status != MethodologyStatus.ACTIVE:
        raise WrongState(_("This methodology is retired: use its latest version."))
    return methodology


def _service(city: City, service_ref: str) -> str:
    if not service_ref:
        return ""
    service = marketplace.deployed_service(city=city, ref=service_ref)
    if service is None:
        raise InvalidInput(_("No service is deployed in this city under this id."))
    return service.deployment


def claim_payload(claim: Claim) -> dict:
    return {
        "claim": claim.public_id,
        "city": claim.city.slug,
        "claimant": claim.claimant.identity.did,
        "indicator": claim.indicator.code,
        "methodology": claim.methodology.public_id,
        "methodology_digest": claim.methodology.digest,
        "parameters": claim.parameters_digest,
        "quantity": claim.quantity,
        "token_class": claim.token_class.code,
        "period": [claim.period_start.isoformat(), claim.period_end.isoformat()],
        "district": claim.district_code or None,
        "service": claim.service_ref or None,
    }


@transaction.atomic
def claim_create(
    *,
    claimant: Membership,
    by: User,
    methodology: Methodology,
    parameters: dict,
    period_start: date,
    period_end: date,
    district_code: str = "",
    service_ref: str = "",
) -> Claim:
    """A draft claim by an approved member, for themselves: the quantity is computed here
    from the measured `parameters` with the methodology (never typed in). Signed by the
    claimant's DID on the city's chain."""
    claimant = Membership.objects.select_related("city__chain", "identity").get(pk=claimant.pk)
    if claimant.user_id != by.pk or claimant.status != MembershipStatus.APPROVED:
        raise NotAllowed(_("An approved member makes claims for themselves."))
    city = claimant.city
    methodology = _methodology(methodology)
    clean = clean_parameters(methodology, parameters)
    start, end = _period(period_start, period_end)
    claim = Claim(
        city=city,
        claimant=claimant,
        indicator=methodology.indicator,
        methodology=methodology,
        token_class=methodology.token_class,
        parameters=clean,
        parameters_digest=sha256_json(clean),
        quantity=compute_quantity(methodology, clean),
        unit=methodology.token_class.smallest_unit,
        period_start=start,
        period_end=end,
        district_code=_district(district_code),
        service_ref=_service(city, service_ref),
        created_by=by,
    )
    claim.entry = record(
        chain=city.chain,
        actor=signer_of(by),
        kind="impact.claim.create",
        payload=claim_payload(claim),
    )
    claim.save()
    rollup_claim_state(claim=claim, was=None)
    return claim


def _locked_claim(claim: Claim) -> Claim:
    return (
        Claim.objects.select_for_update(of=("self",))
        .select_related("city__chain", "claimant__identity", "batch")
        .get(pk=claim.pk)
    )


def _evidence_type(claim: Claim, code: str, kind: str) -> EvidenceType:
    return _type_of(claim.methodology_id, code, kind)


def _type_of(methodology_id: int, code: str, kind: str) -> EvidenceType:
    evidence_type = (
        EvidenceType.objects.filter(
            requirement__methodology_id=methodology_id, code=code, kind=kind
        )
        .select_related("requirement")
        .first()
    )
    if evidence_type is None:
        raise InvalidInput(_("This methodology asks for no such kind of evidence."))
    return evidence_type


def _evidence_record(claim: Claim, evidence: Evidence, by: User) -> Evidence:
    evidence.entry = record(
        chain=claim.city.chain,
        actor=signer_of(by),
        kind="impact.evidence.add",
        payload={
            "claim": claim.public_id,
            "evidence": evidence.public_id,
            "type": evidence.evidence_type.code,
            "sha256": evidence.sha256,
            "dataset": evidence.dataset_ref or None,
        },
    )
    try:
        with transaction.atomic():
            evidence.save()
    except IntegrityError as error:
        raise WrongState(_("This claim already carries this evidence.")) from error
    return evidence


@transaction.atomic
def evidence_add_file(
    *,
    claim: Claim,
    by: User,
    evidence_type: str,
    filename: str,
    content: bytes,
    media_type: str = "application/octet-stream",
) -> Evidence:
    """Attach an uploaded file; its SHA-256 is computed here and goes on the ledger (the
    file stays in the database: it may hold personal data)."""
    claim = _locked_claim(claim)
    if not can_edit_claim(by, claim):
        raise NotAllowed(_("Only whoever made this claim adds evidence, before the decision."))
    if not isinstance(content, bytes) or not content:
        raise InvalidInput(_("The file is empty."))
    if len(content) > MAX_FILE_BYTES:
        raise InvalidInput(_("A file of evidence is at most 5 MB."))
    evidence = Evidence(
        claim=claim,
        evidence_type=_evidence_type(claim, evidence_type, EvidenceKind.FILE),
        kind=EvidenceKind.FILE,
        filename=(filename or "evidence")[-200:],
        media_type=(media_type or "application/octet-stream")[:100],
        content=content,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        added_by=by,
    )
    return _evidence_record(claim, evidence, by)


def _dataset(ref, sha256) -> tuple[str, str]:
    if not isinstance(ref, str) or not TOKEN.match(ref):
        raise InvalidInput(_("Name the dataset by its id."))
    if not isinstance(sha256, str) or not HEX64.match(sha256):
        raise InvalidInput(_("Give the dataset's SHA-256 as 64 lowercase hex digits."))
    known = marketplace.dataset_digest(ref=ref)
    if known is not None and known != sha256:
        raise InvalidInput(_("This digest is not the marketplace's digest of the dataset."))
    return ref, sha256


@transaction.atomic
def evidence_add_dataset(
    *, claim: Claim, by: User, evidence_type: str, dataset_ref: str, sha256: str
) -> Evidence:
    """Cite a dataset of the marketplace by id and SHA-256 (checked against the app store
    when it knows datasets)."""
    claim = _locked_claim(claim)
    if not can_edit_claim(by, claim):
        raise NotAllowed(_("Only whoever made this claim adds evidence, before the decision."))
    ref, digest = _dataset(dataset_ref, sha256)
    evidence = Evidence(
        claim=claim,
        evidence_type=_evidence_type(claim, evidence_type, EvidenceKind.DATASET),
        kind=EvidenceKind.DATASET,
        dataset_ref=ref,
        sha256=digest,
        added_by=by,
    )
    return _evidence_record(claim, evidence, by)


@transaction.atomic
def claim_submit(*, claim: Claim, by: User) -> Claim:
    """Send a draft to the curators. Evidence may still be added until the decision; a
    claim missing evidence cannot be approved."""
    claim = _locked_claim(claim)
    if not can_edit_claim(by, claim):
        raise NotAllowed(_("Only whoever made this claim submits it."))
    if claim.state != ClaimState.DRAFT:
        raise WrongState(_("Only a draft is submitted."))
    claim.state = ClaimState.SUBMITTED
    claim.submitted_at = timezone.now()
    claim.save(update_fields=["state", "submitted_at"])
    record(
        chain=claim.city.chain,
        actor=signer_of(by),
        kind="impact.claim.submit",
        payload={"claim": claim.public_id},
    )
    rollup_claim_state(claim=claim, was=ClaimState.DRAFT)
    return claim


# --- batch submission by a deployed service ----------------------------------------------


def _date(value) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise InvalidInput(_("Dates are written YYYY-MM-DD.")) from error


class BatchPlan:
    """A batch checked and normalised, before anything is written: what the provider signs
    (`payload`) and what will be created (`items`)."""

    def __init__(self, *, city: City, service, provider: Identity, reference: str, items):
        self.city = city
        self.service = service
        self.provider = provider
        self.reference = reference
        self.items = items
        self.digest = sha256_json([item["ledger"] for item in items])

    @property
    def payload(self) -> dict:
        return {
            "city": self.city.slug,
            "service": self.service.deployment,
            "reference": self.reference,
            "count": len(self.items),
            "items": self.digest,
        }


def claim_batch_plan(*, city: City, service_ref: str, by: User, reference: str, items) -> BatchPlan:
    """Check a service's batch of claims: `by` owns the provider of the service deployed in
    `city`; each item names an approved member of the city (membership public id), an
    active methodology (public id), measured values, a period, a district and dataset
    evidence ({type, dataset, sha256}). Writes nothing."""
    service = marketplace.deployed_service(city=city, ref=service_ref)
    if service is None:
        raise InvalidInput(_("No service is deployed in this city under this id."))
    if service.owner_id != by.pk:
        raise NotAllowed(_("Only the provider of this service submits its claims."))
    if not service.active:
        raise WrongState(_("This service is no longer deployed in this city."))
    provider = Identity.objects.filter(did=service.provider_did, revoked_at__isnull=True).first()
    if provider is None:
        raise NotAllowed(_("The provider's DID is revoked."))
    if not isinstance(reference, str) or not TOKEN.match(reference):
        raise InvalidInput(_("The batch reference is an id (letters, digits, '-', '.', '_')."))
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise InvalidInput(_("A batch holds 1 to %(n)s claims.") % {"n": MAX_BATCH})
    members = {
        m.public_id: m
        for m in Membership.objects.select_related("identity").filter(
            city=city,
            status=MembershipStatus.APPROVED,
            public_id__in=[i.get("claimant") for i in items if isinstance(i, dict)],
        )
    }
    methodologies: dict[str, Methodology] = {}
    planned = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidInput(_("Claim %(n)s is not an object.") % {"n": position + 1})
        member = members.get(item.get("claimant"))
        if member is None:
            raise InvalidInput(
                _("Claim %(n)s: the claimant is not an approved member of this city.")
                % {"n": position + 1}
            )
        ref = item.get("methodology")
        if ref not in methodologies:
            found = Methodology.objects.filter(public_id=ref).first() if ref else None
            if found is None:
                raise InvalidInput(_("Claim %(n)s: no such methodology.") % {"n": position + 1})
            methodologies[ref] = _methodology(found)
        methodology = methodologies[ref]
        clean = clean_parameters(methodology, item.get("parameters"))
        start, end = _period(_date(item.get("period_start")), _date(item.get("period_end")))
        district = _district(item.get("district", ""))
        evidence = []
        for cited in item.get("evidence") or []:
            if not isinstance(cited, dict):
                raise InvalidInput(_("Evidence is {type, dataset, sha256}."))
            ref_, digest = _dataset(cited.get("dataset"), cited.get("sha256"))
            code = cited.get("type")
            if not isinstance(code, str):
                raise InvalidInput(_("Evidence is {type, dataset, sha256}."))
            evidence.append((_type_of(methodology.pk, code, EvidenceKind.DATASET), ref_, digest))
        quantity = compute_quantity(methodology, clean)
        planned.append(
            {
                "member": member,
                "methodology": methodology,
                "parameters": clean,
                "quantity": quantity,
                "period": (start, end),
                "district": district,
                "evidence": evidence,
                "ledger": {
                    "claimant": member.identity.did,
                    "methodology": methodology.public_id,
                    "parameters": sha256_json(clean),
                    "quantity": quantity,
                    "period": [start.isoformat(), end.isoformat()],
                    "district": district or None,
                    "evidence": [[t.code, ref_, digest] for t, ref_, digest in evidence],
                },
            }
        )
    return BatchPlan(
        city=city, service=service, provider=provider, reference=reference, items=planned
    )


@transaction.atomic
def claim_batch_submit(
    *,
    city: City,
    service_ref: str,
    by: User,
    reference: str,
    items: list[dict],
    append: Callable[[], Transaction] | None = None,
) -> ClaimBatch:
    """Submit a deployed service's claims on behalf of its users, at once: one
    `impact.claim.batch` transaction signed by the provider's DID (by the platform for a
    custodial DID, or by the provider: `append`, see `impact.actions.SubmitClaimBatch`),
    committing to every claim through the digest of the normalised items. The claims are
    submitted; `reference` is the service's idempotency key (a second submission of the
    same reference is refused)."""
    plan = claim_batch_plan(
        city=city, service_ref=service_ref, by=by, reference=reference, items=items
    )
    if ClaimBatch.objects.filter(
        city=city, service_ref=plan.service.deployment, reference=reference
    ).exists():
        raise WrongState(_("A batch with this reference was already submitted."))
    entry = record(
        chain=city.chain,
        actor=plan.provider,
        kind="impact.claim.batch",
        payload=plan.payload,
        append=append,
    )
    try:
        with transaction.atomic():
            batch = ClaimBatch.objects.create(
                city=city,
                service_ref=plan.service.deployment,
                provider_did=plan.provider.did,
                submitted_by=by,
                reference=reference,
                digest=plan.digest,
                count=len(plan.items),
                entry=entry,
            )
    except IntegrityError as error:
        raise WrongState(_("A batch with this reference was already submitted.")) from error
    now = timezone.now()
    claims = [
        Claim(
            city=city,
            claimant=item["member"],
            indicator=item["methodology"].indicator,
            methodology=item["methodology"],
            token_class=item["methodology"].token_class,
            parameters=item["parameters"],
            parameters_digest=item["ledger"]["parameters"],
            quantity=item["quantity"],
            unit=item["methodology"].token_class.smallest_unit,
            period_start=item["period"][0],
            period_end=item["period"][1],
            district_code=item["district"],
            service_ref=plan.service.deployment,
            batch=batch,
            state=ClaimState.SUBMITTED,
            created_by=by,
            submitted_at=now,
            entry=entry,
        )
        for item in plan.items
    ]
    Claim.objects.bulk_create(claims)
    rollup_claims_created(city=city, state=ClaimState.SUBMITTED, count=len(claims))
    evidence = []
    for claim, item in zip(claims, plan.items, strict=True):
        for evidence_type, ref, digest in item["evidence"]:
            evidence.append(
                Evidence(
                    claim=claim,
                    evidence_type=evidence_type,
                    kind=EvidenceKind.DATASET,
                    dataset_ref=ref,
                    sha256=digest,
                    added_by=by,
                    entry=entry,
                )
            )
    try:
        with transaction.atomic():
            Evidence.objects.bulk_create(evidence)
    except IntegrityError as error:
        raise InvalidInput(_("A claim cites the same evidence twice.")) from error
    return batch

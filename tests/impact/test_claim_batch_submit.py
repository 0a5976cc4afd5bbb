"""A deployed service submits claims on behalf of its users, at once, signed by its
provider's DID: custodial (the platform signs) or self-custody (prepare, sign, submit)."""

from __future__ import annotations

import pytest

from identity.signed_actions import action_execute, action_prepare
from impact.actions import SubmitClaimBatch
from impact.errors import InvalidInput, InvalidParameters, NotAllowed, WrongState
from impact.models import Claim, ClaimBatch, Evidence
from impact.services import claim_batch_submit
from ledger.errors import BadSignature
from tests.identity.support import ClientKey

from .helpers import approve, cycling, writes_nothing

DIGEST = "cd" * 32


def items(*members, km="250", evidence=True):
    return [
        {
            "claimant": member.public_id,
            "methodology": cycling().public_id,
            "parameters": {"distance_km": km},
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
            "district": "nord",
            "evidence": (
                [{"type": "trip-dataset", "dataset": f"trips-{n}", "sha256": DIGEST}]
                if evidence
                else []
            ),
        }
        for n, member in enumerate(members)
    ]


def submit(deployment, by, batch_items, reference="2026-03", **kwargs):
    return claim_batch_submit(
        city=deployment.city,
        service_ref=deployment.public_id,
        by=by,
        reference=reference,
        items=batch_items,
        **kwargs,
    )


def test_one_signed_transaction_submits_every_claim(
    deployment, provider_member, resident, neighbour
):
    batch = submit(deployment, provider_member.user, items(resident, neighbour))
    claims = list(batch.claims.order_by("pk"))
    assert [c.claimant for c in claims] == [resident, neighbour]
    assert all(c.state == "submitted" and c.quantity == 48 for c in claims)  # 250 × 0.193
    assert all(c.service_ref == deployment.public_id and c.entry == batch.entry for c in claims)
    assert Evidence.objects.filter(claim__in=claims, kind="dataset").count() == 2
    entry = batch.entry
    provider_did = deployment.service.provider.identity.did
    assert entry.kind == "impact.claim.batch" and entry.actor == provider_did
    assert entry.payload == {
        "city": deployment.city.slug,
        "service": deployment.public_id,
        "reference": "2026-03",
        "count": 2,
        "items": batch.digest,
    }


def test_a_batch_claim_is_approved_like_any_other(
    deployment, provider_member, resident, curator_member
):
    batch = submit(deployment, provider_member.user, items(resident))
    verification = approve(batch.claims.get(), curator_member)
    assert verification.credential.document["credentialSubject"]["id"] == resident.identity.did


def test_the_provider_cannot_verify_claims_it_submitted(
    deployment, provider_member, resident, city, staff
):
    from impact.errors import OwnClaim
    from impact.services import curator_grant

    curator_grant(city=city, membership=provider_member, by=staff)
    batch = submit(deployment, provider_member.user, items(resident))
    with writes_nothing(), pytest.raises(OwnClaim):
        approve(batch.claims.get(), provider_member)


def test_a_reference_is_submitted_once(deployment, provider_member, resident):
    submit(deployment, provider_member.user, items(resident))
    with writes_nothing(), pytest.raises(WrongState):
        submit(deployment, provider_member.user, items(resident))
    assert ClaimBatch.objects.count() == 1


def test_only_the_provider_of_the_service_submits(deployment, resident):
    with writes_nothing(), pytest.raises(NotAllowed):
        submit(deployment, resident.user, items(resident))


def test_one_bad_claim_refuses_the_whole_batch(deployment, provider_member, resident, applicant):
    with writes_nothing(), pytest.raises(InvalidParameters):
        submit(deployment, provider_member.user, items(resident) + items(resident, km="-3"))
    with writes_nothing(), pytest.raises(InvalidInput):
        submit(deployment, provider_member.user, items(resident) + items(applicant))
    assert not Claim.objects.exists()


def test_an_unknown_service_is_refused(city, provider_member, resident):
    with writes_nothing(), pytest.raises(InvalidInput):
        claim_batch_submit(
            city=city,
            service_ref="nope",
            by=provider_member.user,
            reference="r",
            items=items(resident),
        )


@pytest.fixture
def applicant(city):
    from tests.governance.helpers import request

    return request(city, "residents")


# --- self-custody: prepare, sign, submit ---------------------------------------------------


@pytest.fixture
def self_custody_deployment(deployment, provider_member):
    """The provider's organisation signs with a key only the client holds."""
    from marketplace.models import Provider
    from tests.marketplace.helpers import go_self_custody

    key = ClientKey.generate()
    identity = go_self_custody(provider_member.user, key)
    Provider.objects.filter(pk=deployment.service.provider_id).update(identity=identity)
    deployment.refresh_from_db()
    return deployment, key


def test_a_self_custody_provider_signs_its_batch(
    self_custody_deployment, provider_member, resident
):
    deployment, key = self_custody_deployment
    action = SubmitClaimBatch()
    data = {
        "city": deployment.city,
        "service": deployment.public_id,
        "reference": "r1",
        "items": items(resident),
    }
    prepared = action_prepare(action, user=provider_member.user, data=dict(data))
    assert prepared.actor == key.did
    batch = action_execute(
        action,
        user=provider_member.user,
        data=dict(data),
        created_at=prepared.created_at,
        signature=key.sign(prepared.signing_bytes).hex(),
    )
    assert batch.entry.actor == key.did and batch.provider_did == key.did
    assert batch.claims.count() == 1


def test_a_signature_over_other_claims_is_refused(
    self_custody_deployment, provider_member, resident
):
    deployment, key = self_custody_deployment
    action = SubmitClaimBatch()
    data = {
        "city": deployment.city,
        "service": deployment.public_id,
        "reference": "r1",
        "items": items(resident),
    }
    prepared = action_prepare(action, user=provider_member.user, data=dict(data))
    signature = key.sign(prepared.signing_bytes).hex()
    tampered = {**data, "items": items(resident, km="2500")}
    with writes_nothing(), pytest.raises(BadSignature):
        action_execute(
            action,
            user=provider_member.user,
            data=tampered,
            created_at=prepared.created_at,
            signature=signature,
        )

"""The curators' queue and decisions through the pages: the recomputation shown, approve
(credential and tokens), reject with a reason code, dispute; never their own claim; the
approved claim's credential, downloaded and verified."""

from __future__ import annotations

import json

from impact.models import Batch, Claim, Verification
from impact.services import curator_grant
from ledger.models import Transaction
from tests.impact.helpers import approve, draft_claim, submitted_claim, writes_nothing

from .conftest import HX, logged_in, url


def decide(client, city, claim, **data):
    return client.post(url("claim_verify", city, claim.public_id), data)


def test_the_queue_shows_waiting_claims_with_the_recomputation(
    client, city, resident, curator_member
):
    claim = submitted_claim(resident, "1000")
    draft = draft_claim(resident, "10")
    logged_in(client, curator_member)
    page = client.get(url("queue", city)).content.decode()
    assert f'id="queue-{claim.public_id}"' in page and draft.public_id not in page
    assert "193" in page  # recomputed, in kg CO2e
    fragment = client.get(url("queue", city), **HX).content.decode()
    assert 'id="queue-list"' in fragment and "<html" not in fragment


def test_only_curators_open_the_queue(client, city, resident):
    assert logged_in(client, resident).get(url("queue", city)).status_code == 403


def test_a_curator_approves_in_the_page(client, city, resident, curator_member):
    claim = submitted_claim(resident, "1000")
    logged_in(client, curator_member)
    page = client.get(url("claim_detail", city, claim.public_id)).content.decode()
    assert "Your decision" in page and "matches the claim" in page
    response = decide(client, city, claim, decision="approve", recomputed_quantity="193")
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.state == "approved"
    batch = Batch.objects.get(claim=claim)
    assert batch.quantity == 193
    page = client.get(url("claim_detail", city, claim.public_id)).content.decode()
    assert batch.credential.digest in page and batch.serial_label in page


def test_a_curator_cannot_approve_their_own_claim_through_the_page(client, city, curator_member):
    claim = submitted_claim(curator_member)
    logged_in(client, curator_member)
    page = client.get(url("claim_detail", city, claim.public_id)).content.decode()
    assert "Your decision" not in page
    assert f'id="queue-{claim.public_id}"' not in client.get(url("queue", city)).content.decode()
    with writes_nothing():
        response = decide(client, city, claim, decision="approve", recomputed_quantity="193")
    assert response.status_code == 403
    assert Claim.objects.get(pk=claim.pk).state == "submitted"


def test_a_member_who_is_not_curator_cannot_decide(client, city, resident, neighbour):
    claim = submitted_claim(resident)
    with writes_nothing():
        response = decide(
            logged_in(client, neighbour), city, claim, decision="approve", recomputed_quantity="193"
        )
    assert response.status_code == 404  # the claim is not theirs to see


def test_staff_who_see_the_claim_still_cannot_decide_without_the_role(
    client, city, resident, staff
):
    claim = submitted_claim(resident)
    with writes_nothing():
        response = decide(
            logged_in(client, staff), city, claim, decision="approve", recomputed_quantity="193"
        )
    assert response.status_code == 403


def test_a_rejection_needs_a_reason_code(client, city, resident, curator_member):
    claim = submitted_claim(resident)
    logged_in(client, curator_member)
    with writes_nothing():
        response = decide(client, city, claim, decision="reject", recomputed_quantity="193")
    assert response.status_code == 400
    response = decide(
        client, city, claim, decision="reject", recomputed_quantity="193", reason_code="duplicate"
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.state, claim.reason_code) == ("rejected", "duplicate")


def test_a_wrong_recomputation_is_refused_with_409(client, city, resident, curator_member):
    claim = submitted_claim(resident)
    with writes_nothing():
        response = decide(
            logged_in(client, curator_member),
            city,
            claim,
            decision="approve",
            recomputed_quantity="194",
        )
    assert response.status_code == 409
    assert "the methodology gives 193" in response.content.decode()


def test_missing_evidence_blocks_the_approval(client, city, resident, curator_member):
    claim = submitted_claim(resident, evidence=False)
    logged_in(client, curator_member)
    assert (
        "Evidence missing"
        in client.get(url("claim_detail", city, claim.public_id)).content.decode()
    )
    with writes_nothing():
        response = decide(client, city, claim, decision="approve", recomputed_quantity="193")
    assert response.status_code == 409


def test_a_dispute_keeps_the_claim_open(client, city, resident, curator_member, staff):
    claim = submitted_claim(resident)
    logged_in(client, curator_member)
    decide(client, city, claim, decision="dispute", recomputed_quantity="193")
    assert Claim.objects.get(pk=claim.pk).state == "disputed"
    assert Verification.objects.filter(claim=claim, decision="dispute").count() == 1
    assert claim.public_id in client.get(url("queue", city)).content.decode()


def test_the_credential_downloads_and_verifies(client, city, resident, curator_member):
    credential = approve(submitted_claim(resident), curator_member).credential
    response = client.get(url("credential", city, credential.public_id))  # public
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["credentialSubject"]["quantity"] == 193
    page = client.get(url("credential_verify", city) + f"?credential={credential.public_id}")
    assert "The credential verifies." in page.content.decode()
    posted = client.post(url("credential_verify", city), {"credential": json.dumps(document)})
    assert "The credential verifies." in posted.content.decode()
    document["credentialSubject"]["quantity"] = 194
    altered = client.post(url("credential_verify", city), {"credential": json.dumps(document)})
    assert "does not verify" in altered.content.decode()
    assert client.post(url("credential_verify", city), {"credential": "{"}).status_code == 400


def test_a_revoked_curator_loses_the_queue(client, city, resident, staff):
    from impact.models import Curator
    from impact.services import curator_revoke
    from tests.governance.helpers import join

    member = join(city, "residents", by=staff)
    curator = curator_grant(city=city, membership=member, by=staff)
    logged_in(client, member)
    assert client.get(url("queue", city)).status_code == 200
    curator_revoke(curator=Curator.objects.get(pk=curator.pk), by=staff)
    assert client.get(url("queue", city)).status_code == 403
    assert Transaction.objects.filter(kind="impact.curator.revoke").exists()

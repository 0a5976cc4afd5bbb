"""Claims through the API: create (the quantity computed), evidence (upload, base64,
dataset), submit, the curator's decision, and the credential verifying with the identity
endpoint — and failing when one byte changes."""

from __future__ import annotations

import base64
import copy

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.impact.helpers import TRIPS, cycling, submitted_claim

from .support import assert_error

PATH = "cities/bourg/claims"


def create(client, km="1000", **fields):
    body = {
        "methodology": cycling().public_id,
        "parameters": {"distance_km": km},
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
        "district": "centre",
        **fields,
    }
    return client.post(PATH, body)


def test_a_member_creates_documents_and_submits_a_claim(as_, resident):
    client = as_(resident)
    response = create(client)
    assert response.status_code == 201, response.content
    body = response.json()
    claim = body["claim"]
    assert claim["quantity"] == 193 and claim["unit"] == "kg CO2e"
    assert claim["claimant"] == resident.identity.did and claim["state"] == "draft"
    assert body["complete"] is False and body["missing"] == ["trip-log"]
    public_id = claim["public_id"]

    upload = SimpleUploadedFile("trajets.csv", TRIPS, content_type="text/csv")
    response = client.upload(
        f"{PATH}/{public_id}/evidence", {"type": "trip-export", "file": upload}
    )
    assert response.status_code == 201, response.content
    assert response.json()["size"] == len(TRIPS)

    response = client.post(
        f"{PATH}/{public_id}/evidence",
        {"type": "trip-export", "content_base64": base64.b64encode(b"other").decode()},
    )
    assert response.status_code == 201, response.content
    response = client.post(
        f"{PATH}/{public_id}/evidence",
        {"type": "trip-dataset", "dataset": "ds-1", "sha256": "ab" * 32},
    )
    assert response.status_code == 201, response.content

    response = client.post(f"{PATH}/{public_id}/submit")
    assert response.status_code == 200 and response.json()["claim"]["state"] == "submitted"
    assert response.json()["complete"] is True
    mine = client.get(f"{PATH}/mine").json()
    assert [c["public_id"] for c in mine["results"]] == [public_id]


def test_bad_input_is_a_400_never_a_500(as_, resident):
    client = as_(resident)
    assert_error(create(client, km="-1"), 400, "invalid_parameters")
    assert_error(create(client, parameters={"distance_km": 12.5}), 400, "invalid")
    assert_error(create(client, methodology="nope"), 400, "invalid")
    assert_error(create(client, period_start="yesterday"), 400, "invalid")
    assert_error(client.post(PATH, raw="{not json"), 400)
    assert_error(client.post(PATH, raw="[" * 5000 + "]" * 5000), 400)


def test_who_may_create(as_, anonymous, neighbour, outsider_user):
    assert_error(create(anonymous), 401)
    assert_error(create(as_(outsider_user)), 403, "not_allowed")
    assert_error(as_(neighbour).post("cities/nowhere/claims", {}), 404)


def test_a_stranger_sees_404(as_, resident, neighbour):
    claim = submitted_claim(resident)
    assert_error(as_(neighbour).get(f"{PATH}/{claim.public_id}"), 404)
    assert as_(resident).get(f"{PATH}/{claim.public_id}").status_code == 200


def test_the_curator_approves_and_the_credential_verifies(as_, anonymous, resident, curator_member):
    claim = submitted_claim(resident)
    curator = as_(curator_member)
    queue = curator.get("cities/bourg/verification/queue").json()
    assert [c["public_id"] for c in queue["results"]] == [claim.public_id]
    response = curator.post(
        f"{PATH}/{claim.public_id}/verify", {"decision": "approve", "recomputed_quantity": 193}
    )
    assert response.status_code == 201, response.content
    credential = response.json()["credential"]
    verify = "/api/v1/identity/credentials/verify"
    assert anonymous.post(verify, {"credential": credential}).json()["verified"] is True
    altered = copy.deepcopy(credential)
    altered["credentialSubject"]["quantity"] = 1930
    assert anonymous.post(verify, {"credential": altered}).json()["verified"] is False
    portfolio = as_(resident).get("cities/bourg/portfolio").json()
    assert portfolio["balances"][0]["available"] == 193
    assert portfolio["holdings"][0]["serials"].endswith("-1..193")


def test_the_curators_refusals(as_, resident, curator_member, neighbour):
    no_evidence = submitted_claim(resident, evidence=False)
    curator = as_(curator_member)
    assert_error(
        curator.post(
            f"{PATH}/{no_evidence.public_id}/verify",
            {"decision": "approve", "recomputed_quantity": 193},
        ),
        409,
        "missing_evidence",
    )
    assert_error(
        curator.post(
            f"{PATH}/{no_evidence.public_id}/verify",
            {"decision": "approve", "recomputed_quantity": 1},
        ),
        409,
        "quantity_mismatch",
    )
    own = submitted_claim(curator_member)
    assert_error(
        curator.post(
            f"{PATH}/{own.public_id}/verify", {"decision": "approve", "recomputed_quantity": 193}
        ),
        403,
        "own_claim",
    )
    assert_error(as_(neighbour).get("cities/bourg/verification/queue"), 403)

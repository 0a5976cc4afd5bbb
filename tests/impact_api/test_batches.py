"""A deployed service submits a batch of claims on behalf of its users through the API:
signed by the platform for a custodial provider DID, or prepared, signed and submitted."""

from __future__ import annotations

import base64

from marketplace.models import Provider
from tests.identity.support import ClientKey
from tests.impact.helpers import cycling
from tests.marketplace.helpers import go_self_custody

from .support import assert_error

PATH = "cities/bourg/claims/batches"


def body(deployment, *members, reference="2026-03"):
    return {
        "service": deployment.public_id,
        "reference": reference,
        "items": [
            {
                "claimant": member.public_id,
                "methodology": cycling().public_id,
                "parameters": {"distance_km": "250"},
                "period_start": "2026-03-01",
                "period_end": "2026-03-31",
                "district": "nord",
                "evidence": [{"type": "trip-dataset", "dataset": "ds-9", "sha256": "ef" * 32}],
            }
            for member in members
        ],
    }


def test_a_custodial_provider_submits_a_batch(
    as_, deployment, provider_member, resident, neighbour
):
    client = as_(provider_member)
    response = client.post(PATH, body(deployment, resident, neighbour))
    assert response.status_code == 201, response.content
    batch = response.json()
    assert batch["count"] == 2 and len(batch["claims"]) == 2
    assert batch["provider"] == deployment.service.provider.identity.did
    assert_error(client.post(PATH, body(deployment, resident)), 409, "wrong_state")
    claims = client.get("cities/bourg/claims/mine").json()
    assert claims["count"] == 2
    mine = as_(resident).get("cities/bourg/claims/mine").json()
    assert mine["count"] == 1 and mine["results"][0]["service"] == deployment.public_id


def test_refusals(as_, deployment, provider_member, resident):
    assert_error(as_(resident).post(PATH, body(deployment, resident)), 403, "not_allowed")
    bad = body(deployment, resident)
    bad["items"][0]["parameters"] = {"distance_km": "-4"}
    assert_error(as_(provider_member).post(PATH, bad), 400, "invalid_parameters")
    bad = body(deployment, resident)
    bad["items"][0]["period_start"] = "March"
    assert_error(as_(provider_member).post(PATH, bad), 400)
    assert_error(as_(provider_member).post(PATH, {**body(deployment), "items": []}), 400)


def test_a_self_custody_provider_prepares_signs_and_submits(
    as_, deployment, provider_member, resident
):
    key = ClientKey.generate()
    identity = go_self_custody(provider_member.user, key)
    Provider.objects.filter(pk=deployment.service.provider_id).update(identity=identity)
    client = as_(provider_member)
    data = body(deployment, resident)
    assert_error(client.post(PATH, data), 400, "no_custodial_key")
    prepared = client.post(f"{PATH}/prepare", data).json()
    assert prepared["actor"] == key.did and prepared["payload"]["count"] == 1
    signature = key.sign(base64.b64decode(prepared["signing_input"])).hex()
    forged = body(deployment, resident)
    forged["items"][0]["parameters"] = {"distance_km": "2500"}
    assert_error(
        client.post(PATH, {**forged, "created_at": prepared["created_at"], "signature": signature}),
        400,
        "bad_signature",
    )
    response = client.post(
        PATH, {**data, "created_at": prepared["created_at"], "signature": signature}
    )
    assert response.status_code == 201, response.content
    assert response.json()["provider"] == key.did

"""Portfolio, transfers, retirements and the public certificate through the API; a
self-custody holder prepares, signs and submits."""

from __future__ import annotations

import base64

import pytest
from django.core.management import call_command

from impact.models import Portfolio
from tests.identity.support import ClientKey
from tests.impact.helpers import issued, portfolio
from tests.marketplace.helpers import go_self_custody

from .support import assert_error


@pytest.fixture
def holder(resident, curator_member):
    issued(resident, curator_member, "1000")  # 193
    return resident


def test_transfer_and_overspend(as_, holder, neighbour):
    client = as_(holder)
    body = {"recipient": neighbour.identity.did, "token_class": "tco2e-avoided", "quantity": 50}
    response = client.post("cities/bourg/transfers", body)
    assert response.status_code == 201, response.content
    assert response.json()["serials"][0][1:] == [1, 50]
    assert response.json()["entry"]["chain"] == "bourg"
    assert_error(
        client.post("cities/bourg/transfers", {**body, "quantity": 144}), 409, "insufficient_tokens"
    )
    assert_error(client.post("cities/bourg/transfers", {**body, "recipient": "did:key:zNope"}), 400)
    assert_error(client.post("cities/bourg/transfers", {**body, "token_class": "gold"}), 400)
    assert_error(client.post("cities/bourg/transfers", {**body, "quantity": 0}), 400)
    theirs = as_(neighbour).get("cities/bourg/portfolio").json()
    assert theirs["balances"][0]["available"] == 50


def test_retire_and_the_public_certificate(as_, anonymous, holder, city):
    response = as_(holder).post(
        "cities/bourg/retirements",
        {
            "token_class": "tco2e-avoided",
            "quantity": 93,
            "reason": "on_behalf",
            "beneficiary_name": "Léa Dupont",
        },
    )
    assert response.status_code == 201, response.content
    public_id = response.json()["public_id"]
    certificate = anonymous.get(f"retirements/{public_id}").json()
    assert certificate["ranges"][0]["label"].endswith("-1..93")
    assert certificate["receipt"] is None
    call_command("ledger_seal", "--chain", city.chain.slug, verbosity=0)
    receipt = anonymous.get(f"retirements/{public_id}").json()["receipt"]
    check = anonymous.post("/api/v1/ledger/receipts/verify", {"receipt": receipt}).json()
    assert check["holds"] is True
    assert_error(anonymous.get("retirements/nope"), 404)
    transfer = {"recipient": city.identity.did, "token_class": "tco2e-avoided", "quantity": 101}
    assert_error(as_(holder).post("cities/bourg/transfers", transfer), 409)


def test_a_self_custody_holder_signs_a_transfer(as_, holder, neighbour):
    key = ClientKey.generate()
    identity = go_self_custody(holder.user, key)
    Portfolio.objects.filter(pk=portfolio(holder).pk).update(identity=identity)
    client = as_(holder)
    body = {"recipient": neighbour.identity.did, "token_class": "tco2e-avoided", "quantity": 7}
    assert_error(client.post("cities/bourg/transfers", body), 400, "no_custodial_key")
    first = client.post("cities/bourg/transfers/prepare", body).json()
    second = client.post("cities/bourg/transfers/prepare", body).json()
    assert first["payload"]["serials"] == second["payload"]["serials"]

    def submit(prepared):
        signature = key.sign(base64.b64decode(prepared["signing_input"])).hex()
        return client.post(
            "cities/bourg/transfers",
            {
                **body,
                "created_at": prepared["created_at"],
                "signature": signature,
                "serials": prepared["payload"]["serials"],
            },
        )

    response = submit(first)
    assert response.status_code == 201, response.content
    assert response.json()["sender"] == key.did
    assert_error(submit(first), 409, "replayed_transaction")
    # Signed for serials 1..7, which have left meanwhile: prepare again.
    assert_error(submit(second), 409, "plan_changed")
    third = client.post("cities/bourg/transfers/prepare", body).json()
    assert third["payload"]["serials"][0][1:] == [8, 14]
    assert submit(third).status_code == 201

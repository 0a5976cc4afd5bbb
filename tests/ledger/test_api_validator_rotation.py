"""`POST /api/v1/ledger/chains/<slug>/validators/rotate[/prepare]`: a self-custody validator
rotates its key through the API (prepare, sign with both keys, submit). The signatures
authenticate the caller: no account, no token."""

from __future__ import annotations

import base64

import pytest
import yaml

from ledger.models import Transaction
from ledger.quorum import ROTATE_KIND
from ledger.services import chain_seal
from ledger.signing import platform_validator
from tests.ledger.conftest import new_signer
from tests.ledger.helpers import append_many, hand_signed_rotation, written

API = "/api/v1/ledger"


def prepare(client, chain_slug: str, **body):
    return client.post(
        f"{API}/chains/{chain_slug}/validators/rotate/prepare",
        body,
        content_type="application/json",
    )


def rotate(client, chain_slug: str, body: dict):
    return client.post(
        f"{API}/chains/{chain_slug}/validators/rotate", body, content_type="application/json"
    )


def signed_body(prepared: dict, validator, successor) -> dict:
    """What the validator's client sends back: the prepare's input and answer, both keys'
    signatures of their base64 bytes."""
    return {
        "validator": validator.did,
        "successor": successor.did,
        "effective_height": prepared["effective_height"],
        "created_at": prepared["created_at"],
        "signature": validator.sign(base64.b64decode(prepared["signing_input"])).hex(),
        "successor_signature": successor.sign(
            base64.b64decode(prepared["successor_signing_input"])
        ).hex(),
    }


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code, response.content


def test_prepare_sign_submit(self_custody, client):
    chain, old = self_custody
    new = new_signer()
    before = written(chain)
    prepared = prepare(client, chain.slug, validator=old.did, successor=new.did)
    assert prepared.status_code == 200, prepared.content
    answer = prepared.json()
    assert (answer["chain"], answer["kind"], answer["actor"]) == (chain.slug, ROTATE_KIND, old.did)
    assert answer["effective_height"] == answer["payload"]["effective_height"] == 3
    assert written(chain) == before  # the prepare wrote nothing

    response = rotate(client, chain.slug, signed_body(answer, old, new))
    assert response.status_code == 201, response.content
    entry = Transaction.objects.get(chain=chain, kind=ROTATE_KIND)
    assert response.json() == {
        "chain": chain.slug,
        "kind": ROTATE_KIND,
        "validator": old.did,
        "successor": new.did,
        "effective_height": 3,
        "entry_index": entry.index,
        "tx_hash": entry.tx_hash,
    }
    assert entry.actor == old.did
    assert entry.created_at.isoformat().startswith(answer["created_at"][:19])
    validators = client.get(f"{API}/chains/{chain.slug}/validators").json()
    (scheduled,) = validators["scheduled"]
    assert (scheduled["kind"], scheduled["validator"], scheduled["successor"]) == (
        ROTATE_KIND,
        old.did,
        new.did,
    )


def test_a_later_height_and_base64_signatures(self_custody, client):
    chain, old = self_custody
    new = new_signer()
    answer = prepare(
        client, chain.slug, validator=old.did, successor=new.did, effective_height=6
    ).json()
    body = signed_body(answer, old, new)
    for field in ("signature", "successor_signature"):
        body[field] = base64.b64encode(bytes.fromhex(body[field])).decode()
    response = rotate(client, chain.slug, body)
    assert response.status_code == 201, response.content
    assert response.json()["effective_height"] == 6


@pytest.mark.parametrize("endpoint", ["prepare", "rotate"])
def test_refusals_answer_json_and_write_nothing(self_custody, client, signer, endpoint):
    chain, old = self_custody
    new, outsider = new_signer(), new_signer()

    def send(slug, **body):
        if endpoint == "prepare":
            for field in ("created_at", "signature", "successor_signature"):
                body.pop(field, None)
            return prepare(client, slug, **body)
        return rotate(client, slug, body)

    good = hand_signed_rotation(chain, old, new)
    before = written(chain)
    assert_error(send("nowhere", **good), 404, "not_found")
    assert_error(send(chain.slug, **{**good, "successor": "did:web:x.fr"}), 400, "invalid")
    assert_error(send(chain.slug, **{**good, "validator": old.did + "x"}), 400, "invalid")
    assert_error(send(chain.slug, **{}), 400, "invalid")
    already = hand_signed_rotation(chain, old, platform_validator())
    assert_error(send(chain.slug, **already), 400, "invalid_validator_set")
    stranger = hand_signed_rotation(chain, outsider, new)
    assert_error(send(chain.slug, **stranger), 403, "not_a_validator")
    if endpoint == "rotate":
        forged = {**good, "successor_signature": new.sign(b"anything").hex()}
        assert_error(send(chain.slug, **forged), 400, "bad_signature")
        assert_error(send(chain.slug, **{**good, "signature": "zz"}), 400, "bad_signature")
        missing = {k: v for k, v in good.items() if k != "successor_signature"}
        assert_error(send(chain.slug, **missing), 400, "invalid")
    assert written(chain) == before


def test_a_stale_prepare_a_replay_and_a_concurrent_rotation(self_custody, client, signer):
    chain, old = self_custody
    new, other = new_signer(), new_signer()
    first = signed_body(
        prepare(client, chain.slug, validator=old.did, successor=new.did).json(), old, new
    )
    second = signed_body(
        prepare(client, chain.slug, validator=old.did, successor=other.did).json(), old, other
    )
    assert rotate(client, chain.slug, first).status_code == 201
    before = written(chain)
    assert_error(rotate(client, chain.slug, first), 409, "rotation_pending")  # a replay
    assert_error(rotate(client, chain.slug, second), 409, "rotation_pending")  # prepared meanwhile
    assert written(chain) == before

    append_many(chain, signer, 1)
    chain_seal(chain=chain)  # block 2 seals the rotation: a prepare for height 3 is stale now
    later = new_signer()
    stale = hand_signed_rotation(chain, new, later, height=3)
    before = written(chain)
    assert_error(rotate(client, chain.slug, stale), 400, "invalid_validator_set")
    assert written(chain) == before


def test_the_schema_documents_both_operations(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    base = "/api/v1/ledger/chains/{slug}/validators/rotate"
    prepare_op = schema["paths"][f"{base}/prepare"]["post"]
    rotate_op = schema["paths"][base]["post"]
    assert prepare_op["operationId"] == "ledger_validator_rotate_prepare"
    assert rotate_op["operationId"] == "ledger_validator_rotate"
    assert set(prepare_op["responses"]) == {"200", "400", "403", "404", "409"}
    assert set(rotate_op["responses"]) == {"201", "400", "403", "404", "409"}
    required = schema["components"]["schemas"]["RotationSignedInput"]["required"]
    assert sorted(required) == [
        "created_at",
        "effective_height",
        "signature",
        "successor",
        "successor_signature",
        "validator",
    ]

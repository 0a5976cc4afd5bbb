"""Validator quorums: a block is final when a quorum of the set in force at its height signed
it; set changes apply from their height; a rotated key verifies before and after; a validator
signing two headers for one height is caught and the evidence kept; verification (database and
offline bundle) rebuilds the sets from the chain and names the first block short of quorum."""

from __future__ import annotations

import base64
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger import signing
from ledger.canonical import canonical_json
from ledger.checkpoint import note_body
from ledger.errors import BadSignature, InvalidValidatorChange, NotAValidator
from ledger.export import write_bundle
from ledger.integrity import verify_chain
from ledger.models import Block, Equivocation, Transaction
from ledger.quorum import SET_KIND
from ledger.selectors import block_latest_final, validator_set_at
from ledger.services import chain_seal, ledger_append
from ledger.signing import checkpoint_origin, platform_validator, register_custodial_resolver
from ledger.validators import (
    block_signature_submit,
    equivocation_record,
    validator_key_rotate,
    validator_set_schedule,
)
from ledger.verification import VerificationFailed
from ledger.verify_bundle import verify_bundle
from tests.factories import ChainFactory
from tests.ledger.conftest import new_signer
from tests.ledger.helpers import append_many

API = "/api/v1/ledger"


def sign_block(chain, height: int, signer, **extra) -> dict:
    """What a self-custody validator posts: its signatures of the block's header and note."""
    block = Block.objects.get(chain=chain, height=height)
    note = note_body(checkpoint_origin(chain.slug), block.tree_size, bytes.fromhex(block.root))
    return {
        "validator": signer.did,
        "header_signature": signer.sign(canonical_json(block.header(chain.slug))).hex(),
        "note_signature": base64.b64encode(signer.sign(note.encode())).decode(),
        **extra,
    }


def submit(chain, height: int, signer, **extra):
    return block_signature_submit(
        chain=chain, height=height, **sign_block(chain, height, signer, **extra)
    )


def verify(chain, **options):
    chain.refresh_from_db()
    return verify_chain(chain, **options)


def bundle_of(chain) -> dict:
    chain.refresh_from_db()
    out = io.StringIO()
    write_bundle(chain, out)
    return json.loads(out.getvalue())


@pytest.fixture
def two_of_three(db, signer):
    """A chain whose blocks from height 1 need 2 of {platform, A, B}; A and B keep their own
    keys (self-custody). Block 0 seals the change under the genesis set."""
    chain = ChainFactory()
    a, b = new_signer(), new_signer()
    change = validator_set_schedule(
        chain=chain, members=[platform_validator().did, a.did, b.did], quorum=2, actor=signer
    )
    assert change.effective_height == 1
    chain_seal(chain=chain)
    append_many(chain, signer, 3)
    chain_seal(chain=chain)
    chain.refresh_from_db()
    return chain, a, b


def test_a_block_below_quorum_is_not_final(two_of_three):
    chain, a, _ = two_of_three
    first, second = Block.objects.filter(chain=chain).order_by("height")
    assert first.final_at is not None  # the genesis set: the platform alone
    assert second.final_at is None  # 1 of 3 signed, 2 needed
    assert block_latest_final(chain=chain) == first
    report = verify(chain)
    assert (report.failure, report.awaiting) == (None, [1])
    strict = verify(chain, require_final=True)
    assert strict.failure.height == 1 and "short of the quorum of 2" in strict.failure.reason

    result = submit(chain, 1, a)
    assert (result.created, result.final) == (True, True)
    assert submit(chain, 1, a).created is False  # signing again changes nothing
    assert verify(chain, require_final=True).failure is None
    assert block_latest_final(chain=chain).height == 1


def test_a_final_block_stripped_of_a_signature_is_named(two_of_three):
    chain, a, _ = two_of_three
    submit(chain, 1, a)
    bundle = bundle_of(chain)
    assert verify_bundle(bundle, workers=0).awaiting == []
    bundle["blocks"][1]["signatures"] = bundle["blocks"][1]["signatures"][:1]
    with pytest.raises(VerificationFailed, match=r"block height 1: signed by 1 of the 3"):
        verify_bundle(bundle, workers=0)


def test_outsiders_and_bad_signatures_are_refused(two_of_three):
    chain, a, _ = two_of_three
    with pytest.raises(NotAValidator):
        submit(chain, 1, new_signer())
    with pytest.raises(NotAValidator):  # A joins from height 1 only
        submit(chain, 0, a)
    forged = sign_block(chain, 1, a)
    forged["header_signature"] = "00" * 64
    with pytest.raises(BadSignature):
        block_signature_submit(chain=chain, height=1, **forged)
    assert Block.objects.get(chain=chain, height=1).final_at is None


def test_a_set_change_applies_from_its_height(db, signer):
    chain = ChainFactory()
    append_many(chain, signer, 2)
    chain_seal(chain=chain)  # height 0
    a = new_signer()
    with pytest.raises(InvalidValidatorChange):  # sealed in block 1: cannot apply at 1
        validator_set_schedule(
            chain=chain, members=[a.did], quorum=1, actor=signer, effective_height=1
        )
    with pytest.raises(InvalidValidatorChange):  # 2 of 4 is not a majority
        validator_set_schedule(
            chain=chain,
            members=[a.did, *(new_signer().did for _ in range(3))],
            quorum=2,
            actor=signer,
        )
    validator_set_schedule(chain=chain, members=[a.did], quorum=1, actor=signer, effective_height=3)
    for _ in range(3):  # heights 1, 2, 3
        append_many(chain, signer, 1)
        chain_seal(chain=chain)
    assert validator_set_at(chain=chain, height=2).members == (platform_validator().did,)
    assert validator_set_at(chain=chain, height=3).members == (a.did,)
    heights = dict(Block.objects.filter(chain=chain).values_list("height", "final_at"))
    assert [heights[h] is not None for h in range(4)] == [True, True, True, False]
    submit(chain, 3, a)
    assert verify(chain, require_final=True).failure is None
    assert verify_bundle(bundle_of(chain), workers=0, require_final=True).awaiting == []


def test_a_change_sealed_at_or_after_its_height_fails_verification(db, signer):
    chain = ChainFactory()
    append_many(chain, signer, 1)
    chain_seal(chain=chain)  # height 0
    # Written around the service: it takes effect at the height of the block sealing it.
    entry = ledger_append(
        chain=chain,
        actor=signer,
        kind=SET_KIND,
        payload={"members": [platform_validator().did], "quorum": 1, "effective_height": 1},
    )
    chain_seal(chain=chain)
    failure = verify(chain).failure
    assert (failure.height, failure.index) == (1, entry.index)


def test_a_rotated_key_verifies_before_and_after(db, signer):
    chain = ChainFactory()
    old, new = new_signer(), new_signer()
    validator_set_schedule(
        chain=chain, members=[platform_validator().did, old.did], quorum=2, actor=signer
    )
    chain_seal(chain=chain)  # 0: genesis set
    append_many(chain, signer, 1)
    chain_seal(chain=chain)  # 1: platform + old
    submit(chain, 1, old)
    validator_key_rotate(chain=chain, validator=old, successor=new, effective_height=3)
    entry = Transaction.objects.get(chain=chain, kind="ledger.validators.rotate")
    assert entry.actor == old.did  # signed by the old key, naming the new DID
    for _ in range(2):  # 2: rotation sealed, old key still in force; 3: the new key
        append_many(chain, signer, 1)
        chain_seal(chain=chain)
    submit(chain, 2, old)
    with pytest.raises(NotAValidator):
        submit(chain, 3, old)
    submit(chain, 3, new)
    assert verify(chain, require_final=True).failure is None
    bundle = bundle_of(chain)
    assert verify_bundle(bundle, workers=0, require_final=True).blocks == 4
    # The old key's signature moved onto the block after the rotation is refused.
    bundle["blocks"][3]["signatures"].append(
        {**bundle["blocks"][2]["signatures"][-1]}  # old key's signature, another header
    )
    with pytest.raises(VerificationFailed, match=r"block height 3"):
        verify_bundle(bundle, workers=0)


def test_custodial_validators_sign_when_the_block_is_sealed(db, signer, monkeypatch):
    held = new_signer()
    monkeypatch.setattr(signing, "_CUSTODIAL_RESOLVERS", list(signing._CUSTODIAL_RESOLVERS))
    register_custodial_resolver(lambda dids: {held.did: held} if held.did in dids else {})
    chain = ChainFactory()
    validator_set_schedule(
        chain=chain, members=[platform_validator().did, held.did], quorum=2, actor=signer
    )
    chain_seal(chain=chain)
    append_many(chain, signer, 1)
    block = chain_seal(chain=chain)
    assert block.final_at is not None
    assert sorted(block.signatures.values_list("validator", flat=True)) == sorted(
        [platform_validator().did, held.did]
    )


def test_equivocation_is_caught_and_the_evidence_kept(two_of_three, client):
    chain, a, _ = two_of_three
    submit(chain, 1, a)
    other = {**Block.objects.get(chain=chain, height=1).header(chain.slug), "root": "ab" * 32}
    body = {**sign_block(chain, 1, a), "header": other}
    body["header_signature"] = a.sign(canonical_json(other)).hex()
    response = client.post(
        f"{API}/chains/{chain.slug}/blocks/1/signatures", body, content_type="application/json"
    )
    assert response.status_code == 409, response.content
    evidence = Equivocation.objects.get(chain=chain)
    assert (evidence.validator, evidence.height) == (a.did, 1)
    assert {evidence.digest_a, evidence.digest_b} == {
        response.json()["error"]["details"]["digest_a"],
        response.json()["error"]["details"]["digest_b"],
    }
    tx = Transaction.objects.get(chain=chain, kind="ledger.validators.equivocation")
    assert tx.payload == {
        "validator": a.did,
        "height": 1,
        "header_a": evidence.digest_a,
        "header_b": evidence.digest_b,
    }
    # The same evidence again, through the evidence endpoint, in the other order: kept once.
    again = client.post(
        f"{API}/equivocations",
        {
            "chain": chain.slug,
            "validator": a.did,
            "header_a": evidence.header_b,
            "signature_a": evidence.signature_b,
            "header_b": evidence.header_a,
            "signature_b": evidence.signature_a,
        },
        content_type="application/json",
    )
    assert again.status_code == 200, again.content
    assert Equivocation.objects.filter(chain=chain).count() == 1
    page = client.get(f"/ledger/{chain.slug}/").content.decode()
    assert 'data-testid="equivocations"' in page and evidence.digest_a in page


def test_evidence_must_hold(two_of_three):
    chain, a, _ = two_of_three
    header = Block.objects.get(chain=chain, height=1).header(chain.slug)
    signature = a.sign(canonical_json(header)).hex()
    with pytest.raises(Exception, match="same"):
        equivocation_record(
            chain=chain,
            validator=a.did,
            header_a=header,
            signature_a=signature,
            header_b=dict(header),
            signature_b=signature,
        )
    other = {**header, "root": "cd" * 32}
    with pytest.raises(BadSignature):
        equivocation_record(
            chain=chain,
            validator=a.did,
            header_a=header,
            signature_a=signature,
            header_b=other,
            signature_b=signature,  # signs the first header, not this one
        )
    assert not Equivocation.objects.exists()


def test_the_api_shows_validators_and_blocks_awaiting_signatures(two_of_three, client):
    chain, a, b = two_of_three
    body = client.get(f"{API}/chains/{chain.slug}/validators").json()
    assert body["in_force"] == {"members": [platform_validator().did, a.did, b.did], "quorum": 2}
    assert (body["latest_final_height"], body["awaiting_heights"]) == (0, [1])
    checkpoint = client.get(f"{API}/chains/{chain.slug}/checkpoint")
    assert checkpoint["Smartb-Blocks-Awaiting-Signatures"] == "1"
    assert checkpoint.content.decode().split("\n")[1] == "1"  # block 0: the change alone
    awaiting = client.get(f"{API}/chains/{chain.slug}/blocks/awaiting", {"validator": a.did})
    (row,) = awaiting.json()
    header_bytes = base64.b64decode(row["header_signing_input"])
    note_bytes = base64.b64decode(row["note_signing_input"])
    posted = client.post(
        f"{API}/chains/{chain.slug}/blocks/1/signatures",
        {
            "validator": a.did,
            "header_signature": a.sign(header_bytes).hex(),
            "note_signature": a.sign(note_bytes).hex(),
        },
        content_type="application/json",
    )
    assert posted.status_code == 201, posted.content
    assert posted.json()["final"] is True
    for did, status in ((new_signer().did, 403), (b.did, 400)):
        refused = client.post(
            f"{API}/chains/{chain.slug}/blocks/1/signatures",
            {"validator": did, "header_signature": "00" * 64, "note_signature": "00" * 64},
            content_type="application/json",
        )
        assert refused.status_code == status, refused.content
        assert "error" in refused.json()
    assert client.get(f"{API}/chains/{chain.slug}/blocks/awaiting").json() == []
    block = client.get(f"{API}/chains/{chain.slug}/blocks/1").json()
    assert (block["final"], block["quorum"], len(block["signatures"])) == (True, 2, 2)


def test_the_chain_page_queries_stay_constant(two_of_three, client, signer):
    chain, a, _ = two_of_three
    client.get(f"/ledger/{chain.slug}/")  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        page = client.get(f"/ledger/{chain.slug}/")
    assert 'data-final="false"' in page.content.decode()
    for _ in range(4):
        append_many(chain, signer, 1)
        chain_seal(chain=chain)
    with CaptureQueriesContext(connection) as more:
        client.get(f"/ledger/{chain.slug}/")
    assert len(more) == len(few)

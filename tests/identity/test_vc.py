"""identity.vc: VC 2.0 credentials with an eddsa-jcs-2022 Data Integrity proof.

The W3C test vector (Data Integrity EdDSA Cryptosuites v1.0) proves interoperability: it
verifies, and re-signing its unsigned credential reproduces its proofValue byte for byte.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import rfc8785
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from identity.crypto import generate_private_key, private_key_from_raw, public_key_raw
from identity.vc import (
    CRYPTOSUITE,
    VC_CONTEXT,
    VerifyResult,
    _hash_data,
    credential_build,
    credential_digest,
    proof_add,
    proof_verify,
)
from ledger import didkey
from ledger.canonical import canonical_json

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "eddsa-jcs-2022"
NOW = datetime(2024, 1, 1, tzinfo=UTC)

# Intermediate values published with the same W3C vector (w3c/vc-di-eddsa,
# TestVectors/eddsa-jcs-2022/proofHashJCS.txt and docHashJCS.txt).
W3C_PROOF_CONFIG_HASH = "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db"
W3C_DOCUMENT_HASH = "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19"


def load_vector() -> tuple[dict, dict]:
    signed = json.loads((VECTORS / "signedJCS.json").read_text())
    key_pair = json.loads((VECTORS / "keyPair.json").read_text())
    return signed, key_pair


def vector_private_key():
    _, key_pair = load_vector()
    raw = didkey.multibase_decode(key_pair["privateKeyMultibase"])
    assert raw[:2] == didkey.ED25519_PRIV_PREFIX and len(raw) == 34
    return private_key_from_raw(raw[2:])


def did_of(key) -> str:
    return didkey.did_from_public_key(public_key_raw(key))


def vm_of(key) -> str:
    return didkey.verification_method(did_of(key))


def without(mapping: dict, *keys: str) -> dict:
    return {key: value for key, value in mapping.items() if key not in keys}


def forge(document: dict, proof_options: dict, key) -> dict:
    """Sign like eddsa-jcs-2022 with any proof options, written independently of identity.vc."""
    config = copy.deepcopy(proof_options)
    hash_data = (
        hashlib.sha256(rfc8785.dumps(config)).digest()
        + hashlib.sha256(rfc8785.dumps(document)).digest()
    )
    config["proofValue"] = "z" + didkey.b58encode(key.sign(hash_data))
    return {**document, "proof": config}


ISSUER_KEY = generate_private_key()
ISSUER = did_of(ISSUER_KEY)
ISSUER_VM = vm_of(ISSUER_KEY)
OTHER_KEY = generate_private_key()


def sample_credential() -> dict:
    return credential_build(
        issuer=ISSUER,
        subject={
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "memberOf": {"city": "Namur", "roles": ["resident", "voter"], "since": 2019},
            "verified": True,
            "note": None,
        },
        types=["CityMembershipCredential"],
        credential_id="urn:uuid:2f1c8d2e-0b8e-4a4c-9d7e-1c6c0f6b2a11",
        valid_from="2023-06-01T00:00:00Z",
        valid_until="2030-01-01T00:00:00Z",
        status={"id": "https://city.example/status/1#94567", "type": "BitstringStatusListEntry"},
        extra_contexts=["https://city.example/contexts/membership/v1"],
    )


SIGNED = proof_add(
    sample_credential(),
    private_key=ISSUER_KEY,
    verification_method=ISSUER_VM,
    created="2023-06-01T10:00:00Z",
)


def paths(value, prefix=()):
    """Every path (tuple of keys / indexes) to a node below `value`."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield (*prefix, key)
        yield from paths(item, (*prefix, key))


def replaced(document, path, new_value):
    result = copy.deepcopy(document)
    node = result
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new_value
    return result


def get(document, path):
    for key in path:
        document = document[key]
    return document


json_leaves = (
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=12)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
# Anything json.loads could hand over, plus floats and non-finite numbers.
any_json = st.recursive(
    json_leaves | st.floats(allow_nan=True, allow_infinity=True),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)

CONTENT_PATHS = sorted(
    (path for path in paths(SIGNED) if path[0] not in ("proof", "@context")), key=repr
)
CONTEXT_PATHS = [("@context",), *(path for path in paths(SIGNED) if path[0] == "@context")]


def differs(old, new) -> bool:
    return canonical_json(old) != canonical_json(new)


# --- W3C vector ------------------------------------------------------------------------------


def test_w3c_vector_verifies():
    signed, key_pair = load_vector()
    result = proof_verify(signed, now=NOW)
    assert result == VerifyResult(
        verified=True,
        reason="ok",
        issuer="https://vc.example/issuers/5678",
        verification_method=signed["proof"]["verificationMethod"],
    )
    assert signed["proof"]["verificationMethod"].endswith("#" + key_pair["publicKeyMultibase"])


def test_w3c_vector_key_pair_is_consistent():
    _, key_pair = load_vector()
    public = didkey.public_key_from_multibase(key_pair["publicKeyMultibase"])
    assert public_key_raw(vector_private_key()) == public


def test_w3c_vector_resigned_reproduces_the_proof_value():
    signed, _ = load_vector()
    proof = signed["proof"]
    unsigned = without(signed, "proof")
    resigned = proof_add(
        unsigned,
        private_key=vector_private_key(),
        verification_method=proof["verificationMethod"],
        created=proof["created"],
        proof_purpose=proof["proofPurpose"],
    )
    assert resigned["proof"]["proofValue"] == proof["proofValue"]
    assert canonical_json(resigned) == canonical_json(signed)
    assert unsigned == without(signed, "proof")  # not mutated


def test_w3c_vector_intermediate_hashes():
    signed, _ = load_vector()
    hash_data = _hash_data(without(signed["proof"], "proofValue"), without(signed, "proof"))
    assert hash_data.hex() == W3C_PROOF_CONFIG_HASH + W3C_DOCUMENT_HASH


def test_w3c_vector_validity_window():
    signed, _ = load_vector()
    before = proof_verify(signed, now=datetime(2022, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert (before.verified, before.reason) == (False, "not yet valid")
    assert proof_verify(signed, now=datetime(2023, 1, 1, tzinfo=UTC)).verified


def test_w3c_vector_tampered_subject_fails():
    signed, _ = load_vector()
    signed["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    assert proof_verify(signed, now=NOW).reason == "signature does not verify"


# --- credential_build ------------------------------------------------------------------------


def test_credential_build_shape():
    credential = sample_credential()
    assert list(credential) == [
        "@context",
        "id",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSubject",
        "credentialStatus",
    ]
    assert credential["@context"] == [VC_CONTEXT, "https://city.example/contexts/membership/v1"]
    assert credential["type"] == ["VerifiableCredential", "CityMembershipCredential"]
    assert credential["issuer"] == ISSUER
    assert credential["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert "proof" not in credential


def test_credential_build_minimal_and_deduplicated():
    credential = credential_build(
        issuer="https://city.example",
        subject={"id": "did:example:1"},
        types=["VerifiableCredential", "A", "A"],
        extra_contexts=[VC_CONTEXT],
    )
    assert credential == {
        "@context": [VC_CONTEXT],
        "type": ["VerifiableCredential", "A"],
        "issuer": "https://city.example",
        "credentialSubject": {"id": "did:example:1"},
    }


def test_credential_build_copies_its_inputs():
    subject = {"id": "did:example:1", "roles": ["a"]}
    credential = credential_build(issuer=ISSUER, subject=subject, types=[])
    subject["roles"].append("b")
    assert credential["credentialSubject"]["roles"] == ["a"]


@pytest.mark.parametrize(
    "changes",
    [
        {"issuer": ""},
        {"issuer": "not a url"},
        {"issuer": None},
        {"subject": {}},
        {"subject": ["x"]},
        {"types": "Single"},
        {"types": [1]},
        {"credential_id": "no-scheme"},
        {"valid_from": "2024-01-01"},
        {"valid_from": "2024-01-01T00:00:00"},
        {"valid_until": "yesterday"},
        {"valid_from": "2024-01-02T00:00:00Z", "valid_until": "2024-01-01T00:00:00Z"},
        {"status": {"id": "https://x.example/1"}},
        {"extra_contexts": "https://x.example/ctx"},
        {"extra_contexts": ["not a url"]},
        {"subject": {"amount": 1.5}},
        {"subject": {"big": 2**60}},
    ],
)
def test_credential_build_refuses(changes):
    arguments = {"issuer": ISSUER, "subject": {"id": "did:example:1"}, "types": ["T"]}
    arguments.update(changes)
    with pytest.raises(ValueError):
        credential_build(**arguments)


# --- proof_add / proof_verify round trip -----------------------------------------------------


def test_signed_credential_verifies():
    result = proof_verify(SIGNED, now=NOW)
    assert result == VerifyResult(True, "ok", ISSUER, ISSUER_VM)
    proof = SIGNED["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == CRYPTOSUITE
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["@context"] == SIGNED["@context"]
    assert proof["proofValue"].startswith("z")
    assert len(didkey.multibase_decode(proof["proofValue"])) == 64


def test_proof_add_does_not_mutate_its_input():
    credential = sample_credential()
    before = copy.deepcopy(credential)
    signed = proof_add(credential, private_key=ISSUER_KEY, verification_method=ISSUER_VM)
    assert credential == before
    signed["credentialSubject"]["memberOf"]["roles"].append("mayor")
    assert credential == before


def test_proof_add_created_defaults_to_now_utc():
    signed = proof_add(sample_credential(), private_key=ISSUER_KEY, verification_method=ISSUER_VM)
    created = signed["proof"]["created"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created)
    moment = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


def test_proof_add_refuses():
    credential = sample_credential()
    with pytest.raises(ValueError, match="already has a proof"):
        proof_add(SIGNED, private_key=ISSUER_KEY, verification_method=ISSUER_VM)
    with pytest.raises(ValueError, match="not the did:key of this private key"):
        proof_add(credential, private_key=ISSUER_KEY, verification_method=vm_of(OTHER_KEY))
    with pytest.raises(ValueError, match="created"):
        proof_add(credential, private_key=ISSUER_KEY, verification_method=ISSUER_VM, created="now")
    with pytest.raises(TypeError):
        proof_add(credential, private_key=b"\0" * 32, verification_method=ISSUER_VM)
    with pytest.raises(TypeError):
        proof_add([credential], private_key=ISSUER_KEY, verification_method=ISSUER_VM)
    with pytest.raises(ValueError):
        proof_add(
            {**credential, "amount": 0.5},
            private_key=ISSUER_KEY,
            verification_method=ISSUER_VM,
        )


def test_document_without_context_signs_and_verifies():
    document = {"issuer": ISSUER, "claim": "x"}
    signed = proof_add(document, private_key=ISSUER_KEY, verification_method=ISSUER_VM)
    assert "@context" not in signed["proof"]
    assert proof_verify(signed, now=NOW).reason == "ok"


@settings(max_examples=40, deadline=None)
@given(
    subject=st.dictionaries(st.text(min_size=1, max_size=8), json_values, min_size=1, max_size=5),
    types=st.lists(st.text(min_size=1, max_size=10), max_size=3),
)
def test_round_trip_for_any_subject(subject, types):
    key = generate_private_key()
    credential = credential_build(issuer=did_of(key), subject=subject, types=types)
    signed = proof_add(credential, private_key=key, verification_method=vm_of(key))
    assert proof_verify(signed, now=NOW) == VerifyResult(True, "ok", did_of(key), vm_of(key))
    # JCS makes the proof independent of key order and JSON formatting.
    reordered = json.loads(json.dumps(signed, sort_keys=True, indent=1))
    assert proof_verify(reordered, now=NOW).verified


def test_issuer_may_be_an_object_with_an_id():
    credential = {**sample_credential(), "issuer": {"id": ISSUER, "name": "City of Namur"}}
    signed = proof_add(credential, private_key=ISSUER_KEY, verification_method=ISSUER_VM)
    assert proof_verify(signed, now=NOW) == VerifyResult(True, "ok", ISSUER, ISSUER_VM)


# --- tampering -------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(path=st.sampled_from(CONTENT_PATHS), new_value=json_values)
def test_tampered_credential_field_fails(path, new_value):
    assume(differs(get(SIGNED, path), new_value))
    result = proof_verify(replaced(SIGNED, path, new_value), now=NOW)
    assert (result.verified, result.reason) == (False, "signature does not verify")


@settings(max_examples=50, deadline=None)
@given(path=st.sampled_from(CONTEXT_PATHS), new_value=json_values)
def test_tampered_context_fails(path, new_value):
    assume(differs(get(SIGNED, path), new_value))
    result = proof_verify(replaced(SIGNED, path, new_value), now=NOW)
    assert (result.verified, result.reason) == (False, "proof @context does not match the document")


PROOF_FIELD_REASONS = {
    "type": {"unsupported proof type"},
    "cryptosuite": {"unsupported cryptosuite"},
    "proofValue": {"invalid proof value"},
    "verificationMethod": {"unsupported verification method"},
    "created": {"invalid proof created", "signature does not verify"},
    "proofPurpose": {"unexpected proof purpose"},
    "@context": {"proof @context does not match the document"},
}


@settings(max_examples=100, deadline=None)
@given(field=st.sampled_from(sorted(PROOF_FIELD_REASONS)), new_value=json_values)
def test_tampered_proof_field_fails_with_its_reason(field, new_value):
    assume(differs(SIGNED["proof"][field], new_value))
    result = proof_verify(replaced(SIGNED, ("proof", field), new_value), now=NOW)
    assert not result.verified
    assert result.reason in PROOF_FIELD_REASONS[field]


@settings(max_examples=30, deadline=None)
@given(
    created=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC)
    )
)
def test_other_valid_created_fails_the_signature(created):
    value = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    assume(value != SIGNED["proof"]["created"])
    result = proof_verify(replaced(SIGNED, ("proof", "created"), value), now=NOW)
    assert result.reason == "signature does not verify"


@pytest.mark.parametrize(
    "change",
    [
        lambda doc: doc.update(extra="added after signing"),
        lambda doc: doc.pop("validUntil"),
        lambda doc: doc.pop("credentialStatus"),
        lambda doc: doc["credentialSubject"].update(admin=True),
        lambda doc: doc["type"].reverse(),
        lambda doc: doc["proof"].update(domain="example.org"),
        lambda doc: doc["proof"].pop("created"),
        # Without its @context the proof configuration is no longer the one that was signed.
        lambda doc: doc["proof"].pop("@context"),
        lambda doc: doc["proof"].update(proofValue=didkey.multibase_encode(b"\0" * 64)),
        lambda doc: doc["proof"].update(
            proofValue=didkey.multibase_encode(OTHER_KEY.sign(b"something else"))
        ),
    ],
)
def test_structural_tampering_fails_the_signature(change):
    document = copy.deepcopy(SIGNED)
    change(document)
    assert proof_verify(document, now=NOW).reason == "signature does not verify"


def test_signed_by_key_a_claiming_key_b_fails():
    # A forger signs with key A but names key B (the issuer's) as the verification method.
    credential = sample_credential()
    options = {**without(SIGNED["proof"], "proofValue"), "verificationMethod": ISSUER_VM}
    forged = forge(credential, options, OTHER_KEY)
    result = proof_verify(forged, now=NOW)
    assert result == VerifyResult(False, "signature does not verify", ISSUER, ISSUER_VM)
    # The independent signer agrees with identity.vc when the key is the right one.
    genuine = forge(credential, options, ISSUER_KEY)
    assert genuine == SIGNED
    assert proof_verify(genuine, now=NOW).verified


def test_swapping_the_verification_method_to_another_did_key_fails():
    document = replaced(SIGNED, ("proof", "verificationMethod"), vm_of(OTHER_KEY))
    assert proof_verify(document, now=NOW).reason == "signature does not verify"


def test_issuer_must_control_the_verification_method():
    # Validly signed by OTHER_KEY, but claiming to be issued by ISSUER.
    credential = sample_credential()
    signed = proof_add(credential, private_key=OTHER_KEY, verification_method=vm_of(OTHER_KEY))
    result = proof_verify(signed, now=NOW)
    assert result == VerifyResult(
        False, "issuer does not control the verification method", ISSUER, vm_of(OTHER_KEY)
    )
    for issuer in ("did:web:city.example", {"id": ISSUER}):
        other = proof_add(
            {**credential, "issuer": issuer},
            private_key=OTHER_KEY,
            verification_method=vm_of(OTHER_KEY),
        )
        assert proof_verify(other, now=NOW).reason == (
            "issuer does not control the verification method"
        )


def test_non_did_issuer_skips_the_control_check():
    credential = {**sample_credential(), "issuer": "https://city.example/issuers/1"}
    signed = proof_add(credential, private_key=OTHER_KEY, verification_method=vm_of(OTHER_KEY))
    assert proof_verify(signed, now=NOW).verified


@pytest.mark.parametrize(
    ("issuer", "reason"),
    [(None, "invalid issuer"), (42, "invalid issuer"), ({"name": "x"}, "invalid issuer")],
)
def test_bad_issuer(issuer, reason):
    signed = proof_add(
        {**sample_credential(), "issuer": issuer},
        private_key=ISSUER_KEY,
        verification_method=ISSUER_VM,
    )
    assert proof_verify(signed, now=NOW).reason == reason
    missing = proof_add(
        without(sample_credential(), "issuer"),
        private_key=ISSUER_KEY,
        verification_method=ISSUER_VM,
    )
    assert proof_verify(missing, now=NOW).reason == "missing issuer"


# --- verification methods, purposes, dates ---------------------------------------------------


def test_non_did_key_verification_method_is_unsupported():
    signed = proof_add(
        sample_credential(),
        private_key=ISSUER_KEY,
        verification_method="did:web:city.example#key-1",
    )
    assert proof_verify(signed, now=NOW).reason == "unsupported verification method"


@pytest.mark.parametrize(
    "method",
    [
        ISSUER,  # the DID itself, not its verification method
        ISSUER + "#key-1",
        ISSUER + "#" + vm_of(OTHER_KEY).split("#")[1],
        "did:key:z6MkInvalid#z6MkInvalid",
        "did:key:" + "z" * 5000,
    ],
)
def test_malformed_did_key_verification_method(method):
    document = forge(
        sample_credential(),
        {**without(SIGNED["proof"], "proofValue"), "verificationMethod": method},
        ISSUER_KEY,
    )
    assert proof_verify(document, now=NOW).reason == "unsupported verification method"


def test_expected_proof_purpose():
    signed = proof_add(
        sample_credential(),
        private_key=ISSUER_KEY,
        verification_method=ISSUER_VM,
        proof_purpose="authentication",
    )
    assert proof_verify(signed, now=NOW).reason == "unexpected proof purpose"
    assert proof_verify(signed, now=NOW, proof_purpose="authentication").verified


def test_validity_window_boundaries():
    valid_from = datetime(2023, 6, 1, tzinfo=UTC)
    valid_until = datetime(2030, 1, 1, tzinfo=UTC)
    second = timedelta(seconds=1)
    assert proof_verify(SIGNED, now=valid_from - second).reason == "not yet valid"
    assert proof_verify(SIGNED, now=valid_from).verified
    assert proof_verify(SIGNED, now=valid_until).verified
    assert proof_verify(SIGNED, now=valid_until + second).reason == "expired"
    # A naive `now` is taken as UTC; an aware one in any zone is compared as an instant.
    assert proof_verify(SIGNED, now=datetime(2030, 1, 1, 0, 0, 1)).reason == "expired"
    paris = timezone(timedelta(hours=1))
    assert proof_verify(SIGNED, now=datetime(2030, 1, 1, 0, 30, tzinfo=paris)).verified


def test_validity_is_checked_against_the_current_time_by_default():
    def signed_window(valid_from: str, valid_until: str) -> dict:
        credential = credential_build(
            issuer=ISSUER,
            subject={"id": "did:example:1"},
            types=[],
            valid_from=valid_from,
            valid_until=valid_until,
        )
        return proof_add(credential, private_key=ISSUER_KEY, verification_method=ISSUER_VM)

    past = signed_window("2000-01-01T00:00:00Z", "2001-01-01T00:00:00Z")
    current = signed_window("2000-01-01T00:00:00Z", "9999-12-31T23:59:59Z")
    future = signed_window("9998-01-01T00:00:00Z", "9999-12-31T23:59:59Z")
    assert proof_verify(past).reason == "expired"
    assert proof_verify(current).verified
    assert proof_verify(future).reason == "not yet valid"


def test_time_zones_in_validity_dates():
    credential = {
        **sample_credential(),
        "validFrom": "2024-01-01T01:00:00+01:00",
        "validUntil": "2024-01-01T00:00:00.5-00:30",
    }
    signed = proof_add(credential, private_key=ISSUER_KEY, verification_method=ISSUER_VM)
    assert proof_verify(signed, now=datetime(2023, 12, 31, 23, 59, tzinfo=UTC)).reason == (
        "not yet valid"
    )
    assert proof_verify(signed, now=datetime(2024, 1, 1, 0, 30, tzinfo=UTC)).verified
    assert proof_verify(signed, now=datetime(2024, 1, 1, 0, 31, tzinfo=UTC)).reason == "expired"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("validFrom", "2024-01-01"),
        ("validFrom", "2024-01-01T00:00:00"),
        ("validFrom", "2024-13-01T00:00:00Z"),
        ("validFrom", 20240101),
        ("validUntil", "2024-02-30T00:00:00Z"),
        ("validUntil", "2024-01-01T00:00:00+15:00"),
        ("validUntil", "soon"),
    ],
)
def test_malformed_validity_dates(field, value):
    signed = proof_add(
        {**sample_credential(), field: value},
        private_key=ISSUER_KEY,
        verification_method=ISSUER_VM,
    )
    assert proof_verify(signed, now=NOW).reason == f"invalid {field}"


def test_proof_expires():
    options = {**without(SIGNED["proof"], "proofValue"), "expires": "2024-06-01T00:00:00Z"}
    document = forge(sample_credential(), options, ISSUER_KEY)
    assert proof_verify(document, now=NOW).verified
    late = datetime(2024, 6, 1, tzinfo=UTC)
    assert proof_verify(document, now=late).reason == "proof expired"
    options["expires"] = "June"
    assert proof_verify(forge(sample_credential(), options, ISSUER_KEY)).reason == (
        "invalid proof expires"
    )


def test_now_must_be_a_datetime():
    with pytest.raises(TypeError):
        proof_verify(SIGNED, now="2024-01-01")


# --- malformed input -------------------------------------------------------------------------


def with_proof(**changes) -> dict:
    return {**SIGNED, "proof": {**SIGNED["proof"], **changes}}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (None, "document is not a JSON object"),
        ([], "document is not a JSON object"),
        ("credential", "document is not a JSON object"),
        ({}, "missing proof"),
        (without(SIGNED, "proof"), "missing proof"),
        ({**SIGNED, "proof": None}, "missing proof"),
        ({**SIGNED, "proof": [SIGNED["proof"]]}, "unsupported proof set"),
        ({**SIGNED, "proof": "z3abc"}, "invalid proof"),
        ({**SIGNED, "proof": {}}, "unsupported proof type"),
        ({**SIGNED, "proof": without(SIGNED["proof"], "proofValue")}, "invalid proof value"),
        (with_proof(proofValue="u" + "A" * 86), "invalid proof value"),
        (with_proof(proofValue="z" + "2" * 5000), "invalid proof value"),
        (with_proof(proofValue="z0OIl"), "invalid proof value"),
        (with_proof(proofValue=None), "invalid proof value"),
        (with_proof(cryptosuite="eddsa-rdfc-2022"), "unsupported cryptosuite"),
        (with_proof(type="Ed25519Signature2020"), "unsupported proof type"),
        (without(SIGNED, "@context"), "proof @context does not match the document"),
        ({**SIGNED, "amount": 1.5}, "document is not canonical JSON"),
        ({**SIGNED, "amount": float("nan")}, "document is not canonical JSON"),
        ({**SIGNED, "big": 2**64}, "document is not canonical JSON"),
        ({**SIGNED, 1: "non-string key"}, "document is not canonical JSON"),
        ({**SIGNED, "bytes": b"\0"}, "document is not canonical JSON"),
        ({**SIGNED, "surrogate": "\ud800"}, "document is not canonical JSON"),
    ],
)
def test_malformed_documents(document, reason):
    result = proof_verify(document, now=NOW)
    assert (result.verified, result.reason) == (False, reason)


def test_deeply_nested_document_does_not_raise():
    deep: list = []
    for _ in range(20_000):
        deep = [deep]
    result = proof_verify({**SIGNED, "deep": deep}, now=NOW)
    assert not result.verified


@settings(max_examples=100, deadline=None)
@given(document=any_json)
def test_any_json_never_raises(document):
    result = proof_verify(document, now=NOW)
    assert isinstance(result, VerifyResult)
    assert result.verified is False
    assert isinstance(result.reason, str) and result.reason != "ok"


@settings(max_examples=100, deadline=None)
@given(proof=any_json, issuer=any_json)
def test_any_proof_or_issuer_never_raises(proof, issuer):
    result = proof_verify({**SIGNED, "proof": proof, "issuer": issuer}, now=NOW)
    assert result.verified is False


@settings(max_examples=100, deadline=None)
@given(field=st.sampled_from([*SIGNED["proof"], "expires", "id"]), value=any_json)
def test_any_proof_field_value_never_raises(field, value):
    # Any change to the proof, an added field included, fails (and nothing raises).
    assume(field not in SIGNED["proof"] or value != SIGNED["proof"][field])
    result = proof_verify(replaced(SIGNED, ("proof", field), value), now=NOW)
    assert result.verified is False


def test_verify_result_is_frozen():
    result = proof_verify(SIGNED, now=NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.verified = False


# --- digest ----------------------------------------------------------------------------------


def test_credential_digest():
    digest = credential_digest(SIGNED)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hashlib.sha256(rfc8785.dumps(SIGNED)).hexdigest()
    reordered = json.loads(json.dumps(SIGNED, sort_keys=True))
    assert credential_digest(reordered) == digest
    assert credential_digest(replaced(SIGNED, ("issuer",), "did:example:x")) != digest
    assert credential_digest(without(SIGNED, "proof")) != digest


def test_credential_digest_of_the_w3c_vector():
    signed, _ = load_vector()
    assert credential_digest(signed) == hashlib.sha256(canonical_json(signed)).hexdigest()

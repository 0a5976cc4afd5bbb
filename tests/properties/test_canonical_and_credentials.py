"""What the ledger signs (`ledger.canonical`) and the credentials it verifies
(`identity.vc`), given anything: canonical JSON renders or refuses with `UnsafeJson` and parses
back to the same value; the verifier answers any JSON (never an exception), and a signed
credential altered in one byte of its canonical form does not verify."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from identity.crypto import private_key_from_raw, public_key_raw
from identity.vc import credential_build, proof_add, proof_verify
from ledger import didkey
from ledger.canonical import MAX_SAFE_INTEGER, UnsafeJson, canonical_json, jcs_stdlib

from .support import BOUNDED, mutate, mutations

texts = st.text(max_size=12)
safe_integers = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
safe_json = st.recursive(
    st.none() | st.booleans() | safe_integers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=16,
)
# Anything Python may hand the canonicaliser: floats, huge integers, bytes, tuples, sets,
# non-string keys, lone surrogates...
anything = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=4)
    | st.just("\ud800"),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner)
        | st.frozensets(st.integers(), max_size=2)
        | st.dictionaries(st.one_of(texts, st.integers(), st.none()), inner, max_size=3)
    ),
    max_leaves=10,
)


@BOUNDED
@given(value=anything)
def test_anything_is_canonical_or_refused_with_unsafe_json(value):
    for render in (canonical_json, jcs_stdlib):
        with contextlib.suppress(UnsafeJson):
            assert isinstance(render(value), bytes)


@BOUNDED
@given(value=safe_json)
def test_canonical_json_parses_back_to_the_same_value(value):
    rendered = canonical_json(value)
    assert json.loads(rendered) == value
    assert canonical_json(json.loads(rendered)) == rendered  # a fixed point


# --- credentials -----------------------------------------------------------------------------

KEY = private_key_from_raw(bytes(range(32)))
DID = didkey.did_from_public_key(public_key_raw(KEY))
NOW = datetime(2026, 1, 1, tzinfo=UTC)
CREDENTIAL = proof_add(
    credential_build(
        issuer=DID,
        subject={"id": "did:example:resident", "memberOf": "bourg", "college": "residents"},
        types=["SmartBMembershipCredential"],
        valid_from="2025-01-01T00:00:00Z",
    ),
    private_key=KEY,
    verification_method=didkey.verification_method(DID),
    created="2025-01-01T00:00:00Z",
)
SIGNED_BYTES = canonical_json(CREDENTIAL)


def test_the_credential_under_test_verifies():
    assert proof_verify(CREDENTIAL, now=NOW).verified


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)


@BOUNDED
@given(
    document=st.one_of(
        json_values,
        st.builds(
            lambda field, value: {**CREDENTIAL, field: value},
            st.sampled_from(sorted(CREDENTIAL)),
            json_values,
        ),
        st.builds(
            lambda field, value: {**CREDENTIAL, "proof": {**CREDENTIAL["proof"], field: value}},
            st.sampled_from(sorted(CREDENTIAL["proof"])),
            json_values,
        ),
    )
)
def test_any_json_gets_an_answer_never_an_exception(document):
    result = proof_verify(document, now=NOW)
    assert result.verified is False
    assert isinstance(result.reason, str) and result.reason != "ok"


@BOUNDED
@given(change=mutations(SIGNED_BYTES))
def test_a_credential_altered_in_one_byte_does_not_verify(change):
    try:
        document = json.loads(mutate(SIGNED_BYTES, *change))
    except ValueError:  # no JSON any more (UnicodeDecodeError is a ValueError)
        return
    assert document != CREDENTIAL
    assert not proof_verify(document, now=NOW).verified

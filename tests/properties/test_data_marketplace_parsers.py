"""The data marketplace's parsers of outside input, given anything: ODRL policies
(`marketplace.data.odrl`), SEPA fields (`marketplace.data.sepa`) and hosted files in their
encrypted chunk layout (`marketplace.data.crypto`, what chunked uploads write). Each answers
with its documented error or a value that parses back to itself; a stored file altered in
one byte never opens."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.data import odrl, sepa
from marketplace.data.crypto import ChunkWriter, TamperedData, chunks_open
from marketplace.data.errors import InvalidInput

from .support import BOUNDED, mutate, mutations

# --- ODRL policies ----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
tokens = st.from_regex(r"[A-Za-z0-9_.:\-/#]{1,20}", fullmatch=True)
durations = st.one_of(
    st.integers(min_value=0, max_value=99999).map(lambda n: f"P{n}D"),
    st.integers(min_value=0, max_value=9999).map(lambda n: f"P{n}W"),
)
ordered = st.sampled_from(["eq", "lt", "lteq", "gt", "gteq"])
constraints = st.one_of(
    st.fixed_dictionaries(
        {
            "leftOperand": st.sampled_from(["count", "smartb:records", "smartb:bytes"]),
            "operator": ordered,
            "rightOperand": st.integers(min_value=0, max_value=odrl.MAX_INTEGER),
        }
    ),
    st.fixed_dictionaries(
        {
            "leftOperand": st.sampled_from(["elapsedTime", "delayPeriod"]),
            "operator": ordered,
            "rightOperand": durations,
        }
    ),
    st.fixed_dictionaries(
        {
            "leftOperand": st.just("dateTime"),
            "operator": ordered,
            "rightOperand": st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        }
    ),
    st.fixed_dictionaries(
        {
            "leftOperand": st.just("purpose"),
            "operator": st.sampled_from(["isAnyOf", "isNoneOf", "isAllOf", "isPartOf"]),
            "rightOperand": st.lists(tokens, min_size=1, max_size=4),
        }
    ),
)
duties = st.fixed_dictionaries(
    {"action": st.sampled_from(sorted(odrl.DUTY_ACTIONS - {"compensate"}))},
    optional={"constraint": st.lists(constraints, max_size=2)},
)
permissions = st.fixed_dictionaries(
    {"action": st.sampled_from(sorted(odrl.USAGE_ACTIONS))},
    optional={
        "constraint": st.lists(constraints, max_size=3),
        "duty": st.lists(duties, max_size=2),
    },
)
policies = st.builds(
    lambda permitted, prohibited: {
        "permission": permitted,
        **(
            {
                "prohibition": [
                    rule
                    for rule in prohibited
                    if rule["action"] not in {p["action"] for p in permitted}
                ]
            }
            if prohibited
            else {}
        ),
    },
    st.lists(permissions, min_size=1, max_size=3),
    st.lists(
        st.fixed_dictionaries({"action": st.sampled_from(sorted(odrl.USAGE_ACTIONS))}), max_size=2
    ),
)


def _validated(policy):
    try:
        return odrl.policy_validate(policy)
    except odrl.InvalidPolicy:
        return None


@BOUNDED
@given(
    policy=st.one_of(
        json_values,
        st.builds(
            lambda p, key, value: {**p, key: value},
            policies,
            st.sampled_from(["permission", "prohibition", "obligation", "uid"]),
            json_values,
        ),
        policies.map(
            lambda p: {
                **p,
                "permission": [
                    {
                        **p["permission"][0],
                        "constraint": [
                            {
                                "leftOperand": "dateTime",
                                "operator": "lt",
                                "rightOperand": "2026-13-45T00:00:00+01:00",
                            }
                        ],
                    }
                ],
            }
        ),
    )
)
def test_any_json_is_a_policy_or_refused_with_invalid_policy(policy):
    clean = _validated(policy)
    if clean is not None:
        assert odrl.policy_validate(clean) == clean
        odrl.policy_limits(clean)


@BOUNDED
@given(policy=policies)
def test_a_policy_exported_as_json_ld_parses_back_to_its_rules(policy):
    clean = odrl.policy_validate(policy)
    document = odrl.policy_document(
        policy=clean,
        kind="Offer",
        uid="urn:smartb:offer:x",
        target="urn:smartb:dataset:y",
        assigner="did:key:z6Mk",
    )
    assert odrl.policy_validate(document) == clean
    limits = odrl.policy_limits(clean)
    assert set(limits.actions) == {rule["action"] for rule in clean["permission"]}


@pytest.mark.parametrize("operand", ["research\n", "P30D\n"])
def test_a_term_with_a_trailing_newline_is_refused(operand):
    """`$` in a regular expression also matches before a final newline: tokens are matched
    whole, so "research\\n" is no purpose and "P30D\\n" no duration."""
    left = "purpose" if operand.startswith("r") else "elapsedTime"
    operator = "eq" if left == "purpose" else "lteq"
    policy = {
        "permission": [
            {
                "action": "read",
                "constraint": [
                    {"leftOperand": left, "operator": operator, "rightOperand": operand}
                ],
            }
        ]
    }
    with pytest.raises(odrl.InvalidPolicy):
        odrl.policy_validate(policy)


# --- SEPA fields ------------------------------------------------------------------------------

VALID_IBANS = ["FR7630006000011234567890189", "DE89370400440532013000", "BE71096123456769"]
iban_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[A-Z]{2}[0-9]{2}[A-Z0-9 ]{8,30}", fullmatch=True),
    st.sampled_from(VALID_IBANS).map(lambda iban: " ".join(re.findall(".{1,4}", iban))),
    st.sampled_from(VALID_IBANS).map(str.lower),
    st.none(),
    st.integers(),
)


@BOUNDED
@given(value=iban_like)
def test_any_iban_field_is_cleaned_or_refused_with_invalid_input(value):
    try:
        iban = sepa.iban_clean(value)
    except InvalidInput:
        return
    assert re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{8,30}", iban)
    assert sepa.iban_clean(iban) == iban  # the clean form is a fixed point


@BOUNDED
@given(
    value=st.one_of(
        st.text(max_size=14),
        st.from_regex(r"[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?", fullmatch=True),
        st.none(),
    )
)
def test_any_bic_field_is_cleaned_or_refused_with_invalid_input(value):
    try:
        bic = sepa.bic_clean(value, iban=VALID_IBANS[0])
    except InvalidInput:
        return
    assert sepa.bic_clean(bic, iban=VALID_IBANS[0]) == bic


@settings(BOUNDED, max_examples=12)  # each file is validated against the XML schema: slow
@given(
    name=st.text(max_size=80),
    description=st.text(max_size=160),
    amount=st.one_of(st.integers(min_value=-10, max_value=10**12), st.just(True)),
)
def test_a_transfer_file_is_written_or_refused_with_invalid_input(name, description, amount):
    from datetime import date

    party = sepa.Party(name=name, iban=VALID_IBANS[0], bic="AGRIFRPPXXX")
    with contextlib.suppress(InvalidInput):
        document = sepa.pain001(
            debtor=party,
            creditor=sepa.Party(name="SMART B", iban=VALID_IBANS[1], bic="COBADEFFXXX"),
            amount_cents=amount,
            end_to_end_id="INV-1",
            description=description,
            execution_date=date(2026, 12, 1),
        )
        assert document.startswith(b"<?xml")


# --- hosted files: the encrypted chunk layout -------------------------------------------------

DATA_KEY = bytes(range(32))
CONTEXT = "version-public-id"


def _stored(pieces: list[bytes], chunk_bytes: int) -> tuple[bytes, int]:
    out = io.BytesIO()
    writer = ChunkWriter(out, data_key=DATA_KEY, context=CONTEXT, chunk_bytes=chunk_bytes)
    for piece in pieces:
        writer.write(piece)
    writer.close()
    return out.getvalue(), writer.index


def _open(stored: bytes, count: int, context: str = CONTEXT) -> bytes:
    return b"".join(
        chunks_open(io.BytesIO(stored), data_key=DATA_KEY, context=context, chunk_count=count)
    )


@BOUNDED
@given(
    pieces=st.lists(st.binary(max_size=40), max_size=6),
    chunk_bytes=st.integers(min_value=1, max_value=32),
)
def test_a_file_written_in_any_pieces_opens_to_the_same_bytes(pieces, chunk_bytes):
    stored, count = _stored(pieces, chunk_bytes)
    assert _open(stored, count) == b"".join(pieces)


STORED, COUNT = _stored([b"une ligne de donnees;42\n" * 3], 16)


@BOUNDED
@given(change=mutations(STORED))
def test_a_stored_file_altered_in_one_byte_never_opens(change):
    with pytest.raises(TamperedData):
        _open(mutate(STORED, *change), COUNT)


@BOUNDED
@given(data=st.binary(max_size=200), count=st.integers(min_value=0, max_value=8))
def test_any_stored_bytes_open_or_are_refused_with_tampered_data(data, count):
    with contextlib.suppress(TamperedData):
        _open(data, count)


def test_a_stored_file_opens_only_under_its_own_version_and_in_full():
    with pytest.raises(TamperedData):
        _open(STORED, COUNT, context="another-version")
    with pytest.raises(TamperedData):
        _open(STORED, COUNT - 1)  # bytes after the last chunk
    with pytest.raises(TamperedData):
        _open(STORED, COUNT + 1)  # a chunk missing


def test_a_name_xml_cannot_carry_is_refused_with_invalid_input():
    """Found by the property above: a control character in a name or the description made
    the XML writer fail (an exception, a 500 on the API) instead of a clear refusal."""
    from datetime import date

    with pytest.raises(InvalidInput):
        sepa.pain001(
            debtor=sepa.Party(name="Régie\x0b", iban=VALID_IBANS[0], bic="AGRIFRPPXXX"),
            creditor=sepa.Party(name="SMART B", iban=VALID_IBANS[1], bic="COBADEFFXXX"),
            amount_cents=100,
            end_to_end_id="INV-1",
            description="Facture",
            execution_date=date(2026, 12, 1),
        )

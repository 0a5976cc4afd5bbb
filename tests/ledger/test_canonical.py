"""ledger.canonical: RFC 8785 bytes, and the standard-library copy the offline verifier uses."""

from __future__ import annotations

import math

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.canonical import MAX_SAFE_INTEGER, UnsafeJson, canonical_json, jcs_stdlib

# Any text, with weight on what JCS treats specially: characters beyond the BMP (sorted by
# UTF-16 code units), control characters (escaped), and quotes and backslashes.
special = st.sampled_from(
    ['"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "\ufeff", "é", "\U0001f600"]
)
texts = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"), st.characters(min_codepoint=0x10000, codec="utf-8"), special
    ),
    max_size=12,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER),
    texts,
)
float_free_json = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(texts, children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(float_free_json)
def test_the_standard_library_jcs_equals_rfc8785(value):
    assert jcs_stdlib(value) == rfc8785.dumps(value)
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(texts, scalars, min_size=2, max_size=8))
def test_key_order_does_not_change_the_bytes(value):
    reversed_order = dict(reversed(list(value.items())))
    assert jcs_stdlib(reversed_order) == jcs_stdlib(value)


def test_keys_beyond_the_bmp_sort_by_utf16_code_units():
    # U+1F600 is D83D DE00 in UTF-16, which sorts before U+FB01 though its code point is larger.
    value = {"\ufb01": 1, "\U0001f600": 2}
    assert jcs_stdlib(value) == '{"\U0001f600":2,"\ufb01":1}'.encode()
    assert jcs_stdlib(value) == rfc8785.dumps(value)


def test_a_known_canonical_form():
    value = {"b": [True, None, "x"], "a": {"d": -1, "c": "é\n"}, "": 0}
    assert jcs_stdlib(value) == b'{"":0,"a":{"c":"\xc3\xa9\\n","d":-1},"b":[true,null,"x"]}'


@pytest.mark.parametrize(
    "value",
    [
        1.0,
        0.5,
        {"amount": 12.5},
        {"amount": [1, 2.0]},
        math.nan,
        {"x": math.inf},
        -math.inf,
        MAX_SAFE_INTEGER + 1,
        {"big": -(MAX_SAFE_INTEGER + 1)},
        10**30,
        {1: "a"},
        {"nested": {None: 1}},
        b"bytes",
        {"set": {1, 2}},
        object(),
        "\ud800",
        {"text": ["ok", "lone \udc00 surrogate"]},
        {"\ud83d": "a key that is half an emoji"},
    ],
    ids=repr,
)
def test_values_the_ledger_will_not_sign_are_refused(value):
    with pytest.raises(UnsafeJson):
        canonical_json(value)
    with pytest.raises(UnsafeJson):
        jcs_stdlib(value)


def test_the_largest_safe_integers_are_accepted():
    for value in (MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER):
        assert canonical_json({"n": value}) == f'{{"n":{value}}}'.encode()


def test_the_refusal_names_where_the_float_is():
    with pytest.raises(UnsafeJson, match=r"\$\.price\.amount"):
        canonical_json({"price": {"amount": 9.99}})

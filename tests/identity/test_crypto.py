"""identity.crypto: Ed25519 keys, sealing under a KEK, PKCS#8 and JWK export, verification."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from identity.crypto import (
    KeyConfigError,
    KeyUnsealError,
    export_jwk,
    export_pkcs8_pem,
    generate_private_key,
    kek_from_setting,
    open_private_key,
    private_key_from_raw,
    private_key_raw,
    public_key_raw,
    seal_private_key,
    verify_signature,
)
from ledger.didkey import did_from_public_key, verification_method

KEK = bytes(range(32))
OTHER_KEK = bytes(range(1, 33))
DID_A = b"did:key:z6MkA"
DID_B = b"did:key:z6MkB"


def b64url_decode(text: str) -> bytes:
    assert "=" not in text
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- keys ------------------------------------------------------------------------------------


def test_generated_key_raw_forms_round_trip():
    key = generate_private_key()
    assert isinstance(key, Ed25519PrivateKey)
    raw, public = private_key_raw(key), public_key_raw(key)
    assert len(raw) == 32 and len(public) == 32
    again = private_key_from_raw(raw)
    assert private_key_raw(again) == raw
    assert public_key_raw(again) == public
    assert public_key_raw(key.public_key()) == public


def test_generated_keys_differ():
    assert private_key_raw(generate_private_key()) != private_key_raw(generate_private_key())


def test_rfc8032_test_1_public_key():
    # RFC 8032 section 7.1, TEST 1: secret key -> public key.
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert public_key_raw(private_key_from_raw(secret)) == public


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_private_key_from_raw_refuses_wrong_length(length):
    with pytest.raises(ValueError, match="32 bytes"):
        private_key_from_raw(b"\1" * length)


# --- key-encryption key ----------------------------------------------------------------------


def test_kek_from_setting_standard_base64():
    kek = os.urandom(32)
    assert kek_from_setting(base64.b64encode(kek).decode()) == kek


def test_kek_from_setting_url_safe_unpadded_and_whitespace():
    kek = b"\xfb\xff" * 16  # encodes with '+' and '/' in the standard alphabet
    text = base64.urlsafe_b64encode(kek).decode().rstrip("=")
    assert "-" in text or "_" in text
    assert kek_from_setting(f"  {text}\n") == kek


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        None,
        b"bytes-are-not-a-setting",
        "not base64 at all!",
        base64.b64encode(b"\0" * 16).decode(),
        base64.b64encode(b"\0" * 31).decode(),
        base64.b64encode(b"\0" * 33).decode(),
        base64.b64encode(b"\0" * 64).decode(),
    ],
)
def test_kek_from_setting_refuses_bad_values(value):
    with pytest.raises(KeyConfigError) as error:
        kek_from_setting(value)
    assert isinstance(error.value, ValueError)
    assert "key-encryption key" in str(error.value)


def test_kek_error_does_not_echo_the_secret():
    secret = base64.b64encode(b"s3cret-material!").decode()
    with pytest.raises(KeyConfigError) as error:
        kek_from_setting(secret)
    assert secret not in str(error.value)
    assert "16 bytes" in str(error.value)


# --- seal / open -----------------------------------------------------------------------------


@settings(max_examples=50)
@given(raw=st.binary(min_size=32, max_size=32), context=st.binary(max_size=80))
def test_seal_open_round_trip(raw, context):
    sealed = seal_private_key(raw, kek=KEK, context=context)
    assert sealed[0] == 0x01
    assert len(sealed) == 1 + 12 + 32 + 16
    assert raw not in sealed
    assert open_private_key(sealed, kek=KEK, context=context) == raw


def test_seal_uses_a_fresh_nonce():
    raw = private_key_raw(generate_private_key())
    first = seal_private_key(raw, kek=KEK, context=DID_A)
    second = seal_private_key(raw, kek=KEK, context=DID_A)
    assert first[1:13] != second[1:13]
    assert first != second


def test_open_accepts_memoryview_and_bytearray():
    raw = private_key_raw(generate_private_key())
    sealed = seal_private_key(bytearray(raw), kek=KEK, context=DID_A)
    assert open_private_key(memoryview(sealed), kek=bytearray(KEK), context=DID_A) == raw


@settings(max_examples=100)
@given(position=st.integers(min_value=0, max_value=60), mask=st.integers(1, 255))
def test_any_tampered_byte_is_refused(position, mask):
    sealed = bytearray(seal_private_key(b"\7" * 32, kek=KEK, context=DID_A))
    sealed[position] ^= mask
    with pytest.raises(KeyUnsealError):
        open_private_key(bytes(sealed), kek=KEK, context=DID_A)


def test_wrong_kek_is_refused():
    sealed = seal_private_key(b"\7" * 32, kek=KEK, context=DID_A)
    with pytest.raises(KeyUnsealError, match="does not open"):
        open_private_key(sealed, kek=OTHER_KEK, context=DID_A)


def test_wrong_context_is_refused():
    # A sealed key copied to another account's row (another DID) does not open there.
    sealed = seal_private_key(b"\7" * 32, kek=KEK, context=DID_A)
    with pytest.raises(KeyUnsealError, match="does not open"):
        open_private_key(sealed, kek=KEK, context=DID_B)
    with pytest.raises(KeyUnsealError):
        open_private_key(sealed, kek=KEK, context=b"")


@pytest.mark.parametrize("version", [0x00, 0x02, 0xFF])
def test_unknown_version_is_refused(version):
    sealed = seal_private_key(b"\7" * 32, kek=KEK, context=DID_A)
    with pytest.raises(KeyUnsealError, match="version"):
        open_private_key(bytes([version]) + sealed[1:], kek=KEK, context=DID_A)


@pytest.mark.parametrize("cut", [0, 1, 13, 29, 60])
def test_truncated_or_extended_sealed_key_is_refused(cut):
    sealed = seal_private_key(b"\7" * 32, kek=KEK, context=DID_A)
    with pytest.raises(KeyUnsealError):
        open_private_key(sealed[:cut], kek=KEK, context=DID_A)
    with pytest.raises(KeyUnsealError):
        open_private_key(sealed + b"\0", kek=KEK, context=DID_A)


def test_open_refuses_non_bytes():
    with pytest.raises(KeyUnsealError):
        open_private_key("not bytes", kek=KEK, context=DID_A)


@pytest.mark.parametrize("kek", [b"", b"\0" * 16, b"\0" * 33, "a" * 32])
def test_bad_kek_is_a_configuration_error(kek):
    with pytest.raises(KeyConfigError):
        seal_private_key(b"\7" * 32, kek=kek, context=DID_A)
    with pytest.raises(KeyConfigError):
        open_private_key(b"\1" + b"\0" * 60, kek=kek, context=DID_A)


@pytest.mark.parametrize("length", [0, 31, 33])
def test_seal_refuses_a_raw_key_of_wrong_length(length):
    with pytest.raises(ValueError, match="32 bytes"):
        seal_private_key(b"\7" * length, kek=KEK, context=DID_A)


# --- PKCS#8 ----------------------------------------------------------------------------------


def test_pkcs8_export_loads_back_with_the_password_only():
    key = generate_private_key()
    pem = export_pkcs8_pem(key, password="correct horse battery staple")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    loaded = serialization.load_pem_private_key(pem, password=b"correct horse battery staple")
    assert isinstance(loaded, Ed25519PrivateKey)
    assert private_key_raw(loaded) == private_key_raw(key)
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(pem, password=None)
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(pem, password=b"wrong password")


def test_pkcs8_export_unicode_password():
    key = generate_private_key()
    pem = export_pkcs8_pem(key, password="mot de passe événement ✓")
    loaded = serialization.load_pem_private_key(pem, password="mot de passe événement ✓".encode())
    assert private_key_raw(loaded) == private_key_raw(key)


@pytest.mark.parametrize("password", ["", None, b"bytes"])
def test_pkcs8_export_refuses_missing_password(password):
    with pytest.raises(ValueError, match="password"):
        export_pkcs8_pem(generate_private_key(), password=password)


# --- JWK -------------------------------------------------------------------------------------


def test_jwk_round_trip_with_kid():
    key = generate_private_key()
    did = did_from_public_key(public_key_raw(key))
    jwk = export_jwk(key, did=did)
    assert set(jwk) == {"kty", "crv", "x", "d", "kid"}
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    assert b64url_decode(jwk["x"]) == public_key_raw(key)
    assert b64url_decode(jwk["d"]) == private_key_raw(key)
    assert jwk["kid"] == verification_method(did)
    assert private_key_raw(private_key_from_raw(b64url_decode(jwk["d"]))) == private_key_raw(key)


def test_jwk_public_only_without_kid():
    key = generate_private_key()
    jwk = export_jwk(key, include_private=False)
    assert jwk == {"kty": "OKP", "crv": "Ed25519", "x": jwk["x"]}
    assert len(jwk["x"]) == 43
    assert b64url_decode(jwk["x"]) == public_key_raw(key)


def test_jwk_rfc8037_example():
    # RFC 8037 Appendix A.1/A.2: the Ed25519 key of RFC 8032 TEST 1 as a JWK.
    key = private_key_from_raw(b64url_decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"))
    assert export_jwk(key) == {
        "kty": "OKP",
        "crv": "Ed25519",
        "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    }


def test_jwk_refuses_a_did_of_another_key():
    key, other = generate_private_key(), generate_private_key()
    with pytest.raises(ValueError, match="does not hold"):
        export_jwk(key, did=did_from_public_key(public_key_raw(other)))
    with pytest.raises(ValueError):
        export_jwk(key, did="did:web:example.org")


# --- signatures ------------------------------------------------------------------------------


@settings(max_examples=30)
@given(message=st.binary(max_size=200))
def test_verify_signature_accepts_genuine_and_refuses_altered(message):
    key = generate_private_key()
    signature = key.sign(message)
    public = public_key_raw(key)
    assert verify_signature(public_key=public, signature=signature, message=message) is True
    assert verify_signature(public_key=public, signature=signature, message=message + b"!") is False
    altered = bytes([signature[0] ^ 1]) + signature[1:]
    assert verify_signature(public_key=public, signature=altered, message=message) is False
    other = public_key_raw(generate_private_key())
    assert verify_signature(public_key=other, signature=signature, message=message) is False


anything = st.one_of(
    st.binary(max_size=80),
    st.text(max_size=10),
    st.none(),
    st.integers(),
    st.lists(st.integers(0, 255), max_size=5),
)


@settings(max_examples=100)
@given(public_key=anything, signature=anything, message=anything)
def test_verify_signature_never_raises(public_key, signature, message):
    result = verify_signature(public_key=public_key, signature=signature, message=message)
    assert result is False

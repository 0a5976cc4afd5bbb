"""`did:key` for Ed25519 public keys (W3C did:key method), standard library only.

A did:key is "did:key:" + multibase base58btc ("z") of the multicodec prefix 0xed 0x01
followed by the 32-byte public key, so every such DID starts with "did:key:z6Mk".
Base58 is written here rather than taken from a package because the offline bundle
verifier (`python -m ledger.verify_bundle`) must run with the standard library and
`cryptography` only.
"""

from __future__ import annotations

B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: value for value, char in enumerate(B58_ALPHABET)}
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


class InvalidDid(ValueError):
    """Not a did:key holding an Ed25519 public key."""


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rest = divmod(number, 58)
        out.append(B58_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise ValueError(f"not a base58 character: {char!r}")
        number = number * 58 + _B58_INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    return "z" + b58encode(data)


def multibase_decode(text: str) -> bytes:
    if not text.startswith("z"):
        raise ValueError("only multibase base58btc ('z') is supported")
    return b58decode(text[1:])


def public_key_multibase(public_key: bytes) -> str:
    if len(public_key) != 32:
        raise InvalidDid("an Ed25519 public key is 32 bytes")
    return multibase_encode(ED25519_PUB_PREFIX + public_key)


def did_from_public_key(public_key: bytes) -> str:
    return "did:key:" + public_key_multibase(public_key)


def public_key_from_multibase(value: str) -> bytes:
    try:
        raw = multibase_decode(value)
    except ValueError as error:
        raise InvalidDid(str(error)) from error
    if not raw.startswith(ED25519_PUB_PREFIX) or len(raw) != 34:
        raise InvalidDid("not an Ed25519 public key (multicodec 0xed01, 32 bytes)")
    return raw[2:]


def public_key_from_did(did: str) -> bytes:
    """The Ed25519 public key inside `did` (a DID URL's fragment is ignored)."""
    if not isinstance(did, str) or not did.startswith("did:key:z"):
        raise InvalidDid(f"not a did:key: {did!r}"[:120])
    identifier = did[len("did:key:") :].split("#", 1)[0]
    return public_key_from_multibase(identifier)


def verification_method(did: str) -> str:
    """The did:key's single verification method id: DID + "#" + its multibase key."""
    return f"{did}#{did[len('did:key:') :]}"

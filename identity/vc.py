"""W3C Verifiable Credentials 2.0 secured with a Data Integrity proof, cryptosuite eddsa-jcs-2022.

The cryptosuite follows the W3C Recommendation "Data Integrity EdDSA Cryptosuites v1.0",
section 3.3 (eddsa-jcs-2022):

- create: the proof options get the document's `@context` (when it has one); the proof
  configuration is JCS(proof options); the transformed document is JCS(document without
  `proof`); hashData = SHA-256(proof configuration) || SHA-256(transformed document);
  the signature is Ed25519 over hashData; `proofValue` = multibase base58btc ("z...");
- verify: the same with the proof options = the proof without `proofValue`. When the proof
  carries an `@context`, this module requires it to be *equal* to the document's (the spec
  asks for the document's to start with it and then substitutes it, which lets a holder
  append contexts after signing; every proof created by the spec's algorithm passes both).

Only `did:key` (Ed25519) verification methods are resolved. JSON is canonicalised with
`ledger.canonical.canonical_json`, which refuses floats: credentials carry integers and strings.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from identity.crypto import public_key_raw, verify_signature
from ledger import didkey
from ledger.canonical import assert_json_safe, canonical_json

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"
VERIFIABLE_CREDENTIAL = "VerifiableCredential"

# base58btc of 64 bytes is at most 88 characters; anything much longer is refused before
# decoding (base58 decoding is quadratic in the length).
_MAX_PROOF_VALUE_CHARS = 100
_MAX_DID_CHARS = 256
_SIGNATURE_BYTES = 64

# XML Schema 1.1 dateTimeStamp (a dateTime with a mandatory time zone), 4-digit years only.
_DATETIME_STAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `proof_verify`; `reason` is "ok" when verified, else a short English code."""

    verified: bool
    reason: str
    issuer: str | None = None
    verification_method: str | None = None


def credential_build(
    *,
    issuer: str,
    subject: dict,
    types: list[str],
    credential_id: str | None = None,
    valid_from: str | None = None,
    valid_until: str | None = None,
    status: dict | None = None,
    extra_contexts: Sequence[str] = (),
) -> dict:
    """An unsigned VC 2.0 credential (raises ValueError on anything VC 2.0 would not accept)."""
    if not isinstance(issuer, str) or not _is_url(issuer):
        raise ValueError("issuer must be a URL (a DID or an https URL)")
    if not isinstance(subject, dict) or not subject:
        raise ValueError("subject must be a non-empty object (the credentialSubject claims)")
    if isinstance(types, str) or not all(isinstance(kind, str) and kind for kind in types):
        raise ValueError("types must be a list of non-empty strings")
    if isinstance(extra_contexts, str) or not all(
        isinstance(context, str) and _is_url(context) for context in extra_contexts
    ):
        raise ValueError("extra_contexts must be a list of URLs")
    contexts = [VC_CONTEXT]
    contexts += [context for context in dict.fromkeys(extra_contexts) if context != VC_CONTEXT]
    kinds = [VERIFIABLE_CREDENTIAL]
    kinds += [kind for kind in dict.fromkeys(types) if kind != VERIFIABLE_CREDENTIAL]

    credential: dict[str, Any] = {"@context": contexts}
    if credential_id is not None:
        if not isinstance(credential_id, str) or not _is_url(credential_id):
            raise ValueError("credential_id must be a URL (for example urn:uuid:...)")
        credential["id"] = credential_id
    credential["type"] = kinds
    credential["issuer"] = issuer
    start = end = None
    if valid_from is not None:
        start = _parse_datetime_stamp(valid_from)
        if start is None:
            raise ValueError("valid_from must be a date-time with a time zone (…T…Z)")
        credential["validFrom"] = valid_from
    if valid_until is not None:
        end = _parse_datetime_stamp(valid_until)
        if end is None:
            raise ValueError("valid_until must be a date-time with a time zone (…T…Z)")
        credential["validUntil"] = valid_until
    if start is not None and end is not None and end < start:
        raise ValueError("valid_until is before valid_from")
    credential["credentialSubject"] = copy.deepcopy(subject)
    if status is not None:
        if not isinstance(status, dict) or not isinstance(status.get("type"), str):
            raise ValueError("status must be an object with a 'type' (credentialStatus)")
        credential["credentialStatus"] = copy.deepcopy(status)
    assert_json_safe(credential)
    return credential


def proof_add(
    document: dict,
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str | None = None,
    proof_purpose: str = "assertionMethod",
) -> dict:
    """A copy of `document` with an eddsa-jcs-2022 DataIntegrityProof (input left untouched)."""
    if not isinstance(document, dict):
        raise TypeError("document must be a JSON object (dict)")
    if "proof" in document:
        raise ValueError("document already has a proof (proof sets and chains are unsupported)")
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError("private_key must be an Ed25519PrivateKey")
    if not isinstance(verification_method, str) or not _is_url(verification_method):
        raise ValueError("verification_method must be a URL (a DID URL)")
    if verification_method.startswith("did:key:"):
        own = didkey.verification_method(didkey.did_from_public_key(public_key_raw(private_key)))
        if verification_method != own:
            raise ValueError("verification_method is not the did:key of this private key")
    if created is None:
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif _parse_datetime_stamp(created) is None:
        raise ValueError("created must be a date-time with a time zone (…T…Z)")
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise ValueError("proof_purpose must be a non-empty string")

    unsecured = copy.deepcopy(document)
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    # Create Proof step 2: the proof carries the document's @context.
    if "@context" in unsecured:
        proof["@context"] = copy.deepcopy(unsecured["@context"])
    proof["proofValue"] = _sign(unsecured, proof, private_key)
    return {**unsecured, "proof": proof}


def proof_verify(
    document: dict,
    *,
    now: datetime | None = None,
    proof_purpose: str = "assertionMethod",
) -> VerifyResult:
    """Verify a credential's eddsa-jcs-2022 proof, its issuer binding and validity window.

    Never raises on a malformed document: it answers verified=False with a reason.
    `proof_purpose` is the purpose the verifier expects (credentials: assertionMethod).
    """
    if now is None:
        now = datetime.now(UTC)
    elif not isinstance(now, datetime):
        raise TypeError("now must be a datetime")
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        return _verify(document, now, proof_purpose)
    except Exception:  # the explicit checks should make this unreachable; never raise anyway
        return VerifyResult(False, "malformed document")


def credential_digest(document: dict) -> str:
    """Lowercase hex SHA-256 of the JCS of the whole (signed) document, for the ledger."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


def _hash_data(proof_config: dict, unsecured: dict) -> bytes:
    """eddsa-jcs-2022 hashData: SHA-256(JCS(proof config)) || SHA-256(JCS(document))."""
    proof_hash = hashlib.sha256(canonical_json(proof_config)).digest()
    document_hash = hashlib.sha256(canonical_json(unsecured)).digest()
    return proof_hash + document_hash


def _sign(unsecured: dict, proof_config: dict, private_key: Ed25519PrivateKey) -> str:
    return didkey.multibase_encode(private_key.sign(_hash_data(proof_config, unsecured)))


def _verify(document: Any, now: datetime, expected_purpose: str) -> VerifyResult:
    if not isinstance(document, dict):
        return VerifyResult(False, "document is not a JSON object")
    issuer = _issuer_id(document.get("issuer"))
    proof = document.get("proof")
    if proof is None:
        return VerifyResult(False, "missing proof", issuer)
    if isinstance(proof, list):
        return VerifyResult(False, "unsupported proof set", issuer)
    if not isinstance(proof, dict):
        return VerifyResult(False, "invalid proof", issuer)
    method = proof.get("verificationMethod")
    method = method if isinstance(method, str) else None

    def fail(reason: str) -> VerifyResult:
        return VerifyResult(False, reason, issuer, method)

    if proof.get("type") != PROOF_TYPE:
        return fail("unsupported proof type")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        return fail("unsupported cryptosuite")
    signature = _decode_proof_value(proof.get("proofValue"))
    if signature is None:
        return fail("invalid proof value")
    public_key = _resolve_did_key(method)
    if public_key is None:
        return fail("unsupported verification method")
    if "created" in proof and _parse_datetime_stamp(proof["created"]) is None:
        return fail("invalid proof created")
    if proof.get("proofPurpose") != expected_purpose:
        return fail("unexpected proof purpose")

    unsecured = {key: value for key, value in document.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in options and (
        "@context" not in unsecured or not _same_json(options["@context"], unsecured["@context"])
    ):
        return fail("proof @context does not match the document")
    try:
        hash_data = _hash_data(options, unsecured)
    except Exception:  # UnsafeJson (floats, huge integers), lone surrogates, deep nesting...
        return fail("document is not canonical JSON")
    if not verify_signature(public_key=public_key, signature=signature, message=hash_data):
        return fail("signature does not verify")

    if "expires" in proof:
        expires = _parse_datetime_stamp(proof["expires"])
        if expires is None:
            return fail("invalid proof expires")
        if now >= expires:
            return fail("proof expired")
    if "issuer" not in document:
        return fail("missing issuer")
    if issuer is None:
        return fail("invalid issuer")
    if issuer.startswith("did:") and method.split("#", 1)[0] != issuer:
        return fail("issuer does not control the verification method")
    if "validFrom" in document:
        valid_from = _parse_datetime_stamp(document["validFrom"])
        if valid_from is None:
            return fail("invalid validFrom")
        if now < valid_from:
            return fail("not yet valid")
    if "validUntil" in document:
        valid_until = _parse_datetime_stamp(document["validUntil"])
        if valid_until is None:
            return fail("invalid validUntil")
        if now > valid_until:
            return fail("expired")
    return VerifyResult(True, "ok", issuer, method)


def _issuer_id(value: Any) -> str | None:
    """The issuer URL: VC 2.0 allows a URL string or an object with an `id`."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str) and _is_url(value):
        return value
    return None


def _decode_proof_value(value: Any) -> bytes | None:
    if not isinstance(value, str) or len(value) > _MAX_PROOF_VALUE_CHARS:
        return None
    try:
        raw = didkey.multibase_decode(value)
    except ValueError:
        return None
    return raw if len(raw) == _SIGNATURE_BYTES else None


def _resolve_did_key(method: str | None) -> bytes | None:
    """The Ed25519 public key of a did:key verification method `did:key:z…#z…`, else None."""
    if method is None or len(method) > _MAX_DID_CHARS or not method.startswith("did:key:z"):
        return None
    did = method.split("#", 1)[0]
    try:
        public_key = didkey.public_key_from_did(did)
    except ValueError:
        return None
    if method != didkey.verification_method(did):
        return None
    return public_key


def _same_json(left: Any, right: Any) -> bool:
    try:
        return canonical_json(left) == canonical_json(right)
    except Exception:
        return False


def _parse_datetime_stamp(value: Any) -> datetime | None:
    """An aware datetime from an XML Schema dateTimeStamp string, or None."""
    if not isinstance(value, str):
        return None
    match = _DATETIME_STAMP.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if zone == "Z":
        tz = UTC
    else:
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            return None
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if zone[0] == "-" else offset)
    microsecond = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            microsecond,
            tzinfo=tz,
        )
    except ValueError:
        return None


def _is_url(value: str) -> bool:
    """A scheme followed by something, no whitespace: enough to tell a URL/DID from a name."""
    scheme, sep, rest = value.partition(":")
    return bool(
        sep
        and rest
        and scheme
        and scheme[0].isascii()
        and scheme[0].isalpha()
        and all(char.isascii() and (char.isalnum() or char in "+-.") for char in scheme)
        and not any(char.isspace() for char in value)
    )

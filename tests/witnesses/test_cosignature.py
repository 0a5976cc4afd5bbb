"""C2SP tlog-cosignature/v1: the spec's message and example, transparency-dev's key id and
timestamp vectors, and a frozen vector computed with the RFC 8032 test key (Ed25519 is
deterministic, so the line never changes)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.checkpoint import CheckpointError, checkpoint_text, note_body, signature_line
from witnesses.cosignature import (
    CosignatureError,
    cosign,
    cosignature_timestamp,
    cosigner_key_id,
    signed_message,
    verify_cosignature,
    verify_log_signatures,
)

# The example of c2sp.org/tlog-cosignature.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_TIME = 1679315147
SPEC_COSIGNATURE = (
    "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZ"
    "qhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)
# RFC 8032 section 7.1, test 1.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
FROZEN_LINE = (
    "\u2014 witness.example.com/w1 fm9KqgAAAABkGFDL+TPmh4BYuAjsYRoqMJCWb/gWJaeRF/kmm5tlCr9sJ57DL"
    "Erur7K0yDXc2ArN+TIuotuB/HbuL3AJsp3bv/aNCQ==\n"
)


def rfc8032_key():
    key = Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)
    return key, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_the_signed_message_is_the_specs():
    assert signed_message(SPEC_TIME, SPEC_BODY) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_timestamps_of_published_cosignatures():
    # The spec's example line carries the time of the spec's example message...
    assert cosignature_timestamp(SPEC_COSIGNATURE) == SPEC_TIME
    # ...and transparency-dev/formats' note_cosigv1_test.go vector its stated time.
    vector = (
        "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcF"
        "iEBYJXORmnFBOBA=="
    )
    assert cosignature_timestamp(vector) == 1727964367


def test_key_id_matches_transparency_devs_cosignature_vkey():
    # "remora.n621.de+da77ade7+BOvN63jn/..." from transparency-dev/formats: type byte 0x04.
    raw = base64.b64decode("BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
    assert raw[0] == 0x04
    assert cosigner_key_id("remora.n621.de", raw[1:]).hex() == "da77ade7"


def test_frozen_vector_signs_and_verifies():
    key, public = rfc8032_key()
    made = cosign(
        body=SPEC_BODY,
        name="witness.example.com/w1",
        public_key=public,
        sign=key.sign,
        timestamp=SPEC_TIME,
    )
    assert made.line == FROZEN_LINE
    checked = verify_cosignature(
        SPEC_BODY + "\n" + FROZEN_LINE, name="witness.example.com/w1", public_key=public
    )
    assert checked.timestamp == SPEC_TIME


def test_a_cosignature_over_another_root_does_not_verify():
    key, public = rfc8032_key()
    forged = SPEC_BODY.replace("CsUY", "DsUY") + "\n" + FROZEN_LINE
    with pytest.raises(CosignatureError):
        verify_cosignature(forged, name="witness.example.com/w1", public_key=public)


def test_log_signatures_need_the_quorum_of_known_keys():
    keys = [Ed25519PrivateKey.generate() for _ in range(3)]
    publics = [k.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) for k in keys]
    body = note_body("log.example/a", 7, b"\x01" * 32)
    lines = [
        signature_line("log.example/a", p, k.sign(body.encode()))
        for k, p in zip(keys[:2], publics[:2], strict=True)
    ]
    text = checkpoint_text(body, lines)
    assert len(verify_log_signatures(text, public_keys=publics, quorum=2).valid_keys) == 2
    with pytest.raises(CheckpointError):
        verify_log_signatures(text, public_keys=publics, quorum=3)
    # Unknown keys' lines (other witnesses) are ignored; a known key's bad line is refused.
    assert verify_log_signatures(text + FROZEN_LINE, public_keys=publics[:1]).valid_keys
    bad = checkpoint_text(body, [signature_line("log.example/a", publics[2], b"\0" * 64)])
    with pytest.raises(CheckpointError):
        verify_log_signatures(bad, public_keys=publics)

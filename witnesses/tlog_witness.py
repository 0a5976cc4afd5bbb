"""The request body of C2SP `tlog-witness` `add-checkpoint` (standard library only).

Spec: https://c2sp.org/tlog-witness (C2SP/C2SP, tlog-witness.md). A log pushes

    old <size of the checkpoint the witness last cosigned, ASCII decimal>
    <zero to 63 lines: the RFC 6962 consistency proof, one base64 hash per line>
    <an empty line>
    <the checkpoint: a signed note>

and the witness answers its cosignature lines (200), the size it last cosigned (409,
`text/x.tlog.size`), or 400 / 403 / 404 / 422.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

MAX_BODY = 64 * 1024
MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD_LINE = re.compile(r"old (0|[1-9][0-9]{0,18})")


class MalformedPush(ValueError):
    """A body that is not an old size line, proof lines, an empty line and a checkpoint."""


@dataclass(frozen=True)
class AddCheckpoint:
    old: int
    proof: tuple[bytes, ...]
    checkpoint: str


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse an `add-checkpoint` body; the checkpoint itself is parsed by the caller."""
    if len(body) > MAX_BODY:
        raise MalformedPush("the body is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedPush("the body is not UTF-8") from error
    head, separator, checkpoint = text.partition("\n\n")
    if not separator:
        raise MalformedPush("no empty line before the checkpoint")
    old_line, *proof_lines = head.split("\n")
    match = _OLD_LINE.fullmatch(old_line)
    if match is None:
        raise MalformedPush("the first line is not 'old <size>'")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise MalformedPush(f"a consistency proof has at most {MAX_PROOF_LINES} lines")
    proof = []
    for line in proof_lines:
        try:
            raw = base64.b64decode(line, validate=True)
        except ValueError as error:
            raise MalformedPush("a proof line is not base64") from error
        if len(raw) != 32 or base64.b64encode(raw).decode() != line:
            raise MalformedPush("a proof line is not one SHA-256 hash in base64")
        proof.append(raw)
    old = int(match.group(1))
    if old == 0 and proof:
        raise MalformedPush("the proof is empty when the old size is zero")
    return AddCheckpoint(old=old, proof=tuple(proof), checkpoint=checkpoint)

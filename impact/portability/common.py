"""What the checks and the loader share: the refusals a row's transaction gives, serial
ranges, inline files and dates."""

from __future__ import annotations

import base64
import binascii
from datetime import date

from django.utils.translation import gettext as _

from smartb.portability import ImportContext, ImportRefused


def disagrees(what: str, index) -> ImportRefused:
    """The refusal for a row that is not what its transaction at `index` signed."""
    return ImportRefused(
        _("The %(what)s at ledger index %(index)s does not match its transaction.")
        % {"what": what, "index": index}
    )


def signed(ctx: ImportContext, row: dict, kind: str, what: str) -> dict:
    """The row's transaction, which must be of `kind` and carry an object payload."""
    tx = ctx.transaction(row["entry"])
    if tx["kind"] != kind or not isinstance(tx["payload"], dict):
        raise disagrees(what, row["entry"])
    return tx


def units(serials) -> int:
    """How many serials the ranges [batch, first, last] cover; a malformed range refuses."""
    total = 0
    for _batch, first, last in serials:
        if type(first) is not int or type(last) is not int or last < first:
            raise ImportRefused(_("A serial range of the export is malformed."))
        total += last - first + 1
    return total


def evidence_content(row: dict) -> bytes:
    """The file of an evidence row, decoded from base64 (a bad encoding refuses)."""
    try:
        return base64.b64decode(row["content"], validate=True)
    except (binascii.Error, TypeError, ValueError) as error:
        raise disagrees("evidence", row["entry"]) from error


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError) as error:
        raise ImportRefused(
            _("A date of the export is malformed: %(text)s") % {"text": text}
        ) from error


def by_id(rows) -> dict:
    return {row.public_id: row for row in rows}

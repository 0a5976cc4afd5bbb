"""Records of personal datasets: CSV or JSON Lines whose every record names its data subject
by DID in a subject column/field (default `subject`).

`record_subjects` reads the plaintext as it streams (pull-based, so the same code runs while a
file is being encrypted and while a stored file is being decrypted) and yields each record's
subject; `subject_counts` counts them. A delivery (part 2) filters records with the same
reading rules (`text_lines`, the subject column) to drop the records of subjects who refused
or revoked their consent.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections import Counter
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _

from ledger.didkey import InvalidDid, public_key_from_did

from .errors import InvalidInput

SUBJECT_FIELD = "subject"
CSV_MEDIA_TYPES = {"text/csv"}
JSON_LINES_MEDIA_TYPES = {"application/jsonl", "application/x-ndjson", "application/jsonlines"}
RECORD_MEDIA_TYPES = CSV_MEDIA_TYPES | JSON_LINES_MEDIA_TYPES


def text_lines(pieces: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 lines (newline kept) from byte pieces split anywhere."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    try:
        for piece in pieces:
            pending += decoder.decode(piece)
            *lines, pending = pending.split("\n")
            for line in lines:
                yield line + "\n"
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InvalidInput(_("A personal dataset's file must be UTF-8 text.")) from None
    if pending:
        yield pending


def _did_checked(value, number: int) -> str:
    if not isinstance(value, str) or not value.startswith("did:"):
        raise InvalidInput(
            _("Record %(n)s has no subject DID: every record of personal data names its subject.")
            % {"n": number}
        )
    try:
        public_key_from_did(value)
    except InvalidDid:
        raise InvalidInput(
            _("Record %(n)s: the subject is not a valid did:key.") % {"n": number}
        ) from None
    return value


def record_subjects(pieces: Iterable[bytes], *, media_type: str, field: str) -> Iterator[str]:
    """The subject DID of each record, in order; bad input raises InvalidInput."""
    if media_type in CSV_MEDIA_TYPES:
        reader = csv.reader(text_lines(pieces))
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InvalidInput(_("The CSV header is not valid: %(e)s") % {"e": error}) from None
        if field not in header:
            raise InvalidInput(
                _("The CSV file has no %(field)s column naming each record's subject.")
                % {"field": field}
            )
        position = header.index(field)
        number = 0
        try:
            for row in reader:
                if not row:
                    continue
                number += 1
                value = row[position] if position < len(row) else None
                yield _did_checked(value, number)
        except csv.Error as error:
            raise InvalidInput(
                _("Record %(n)s is not valid CSV: %(e)s") % {"n": number + 1, "e": error}
            ) from None
    elif media_type in JSON_LINES_MEDIA_TYPES:
        number = 0
        for line in text_lines(pieces):
            if not line.strip():
                continue
            number += 1
            try:
                record = json.loads(line)
            except ValueError:
                raise InvalidInput(_("Line %(n)s is not JSON.") % {"n": number}) from None
            if not isinstance(record, dict):
                raise InvalidInput(_("Line %(n)s is not a JSON object.") % {"n": number})
            yield _did_checked(record.get(field), number)
    else:
        raise InvalidInput(
            _("Personal data is hosted as CSV (text/csv) or JSON Lines (application/jsonl).")
        )


def subject_counts(pieces: Iterable[bytes], *, media_type: str, field: str) -> Counter:
    counts: Counter = Counter()
    for subject in record_subjects(pieces, media_type=media_type, field=field):
        counts[subject] += 1
    return counts

"""Keep personal data off the ledger.

A payload may hold DIDs, ids, slugs, codes, decimal amounts, timestamps and hex/base64
digests: strings without spaces or '@'. Names, e-mail addresses, postal addresses and free
text have spaces or an '@' and are refused; they stay in the database, and the ledger holds
their SHA-256 digest when it must commit to them.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import PersonalDataRefused

_TOKEN = re.compile(r"^[A-Za-z0-9_.:\-/#+=,]{0,256}$")


def assert_no_personal_data(value: Any, path: str = "$") -> None:
    if isinstance(value, str):
        if not _TOKEN.fullmatch(value):
            raise PersonalDataRefused(
                f"{path}: free text refused on the ledger; record an id or a SHA-256 digest"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            if not _TOKEN.fullmatch(key):
                raise PersonalDataRefused(f"{path}: key {key[:40]!r} is not an identifier")
            assert_no_personal_data(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            assert_no_personal_data(item, f"{path}[{position}]")

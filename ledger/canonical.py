"""Canonical JSON for what the ledger signs.

`canonical_json` is RFC 8785 (JCS) through the `rfc8785` package. The ledger refuses floats
(money is integer cents or a decimal string), so every value it signs is float-free, and for
float-free JSON `jcs_stdlib` gives the same bytes with the standard library alone; the offline
bundle verifier uses it, and a property test holds the two equal.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1  # I-JSON (RFC 7493): larger integers do not survive JavaScript


class UnsafeJson(ValueError):
    """A value the ledger will not sign: floats, non-string keys, huge integers, bytes..."""


def _assert_unicode(text: str, path: str) -> None:
    # A lone surrogate (JSON "\ud800") is not Unicode text: RFC 8785 cannot encode it.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise UnsafeJson(f"{path}: text holds a lone surrogate, not Unicode") from error


def assert_json_safe(value: Any, path: str = "$") -> None:
    if isinstance(value, str):
        _assert_unicode(value, path)
        return
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise UnsafeJson(f"{path}: integer beyond 2^53, write it as a string")
        return
    if isinstance(value, float):
        kind = "non-finite number" if not math.isfinite(value) else "float"
        raise UnsafeJson(f"{path}: {kind} refused; amounts are integer cents or decimal strings")
    if isinstance(value, list | tuple):
        for position, item in enumerate(value):
            assert_json_safe(item, f"{path}[{position}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise UnsafeJson(f"{path}: object keys must be strings, not {key!r}")
            _assert_unicode(key, path)
            assert_json_safe(item, f"{path}.{key}")
        return
    raise UnsafeJson(f"{path}: {type(value).__name__} is not JSON")


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON-safe value (raises UnsafeJson otherwise)."""
    import rfc8785

    assert_json_safe(value)
    return rfc8785.dumps(value)


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be")


def jcs_stdlib(value: Any) -> bytes:
    """RFC 8785 for float-free JSON with the standard library only.

    JCS sorts object keys by their UTF-16 code units; Python's `sort_keys` sorts by code
    points, which differs for characters beyond the BMP, so keys are sorted here by hand.
    String escaping of `json.dumps(ensure_ascii=False)` matches JCS (RFC 8785 3.2.2.2).
    Refuses what `assert_json_safe` refuses, in the same single pass (the offline verifier
    runs this once per transaction).
    """
    try:
        return _jcs(value, "$").encode("utf-8")
    except UnicodeEncodeError as error:
        raise UnsafeJson("text holds a lone surrogate, not Unicode") from error


_dumps = json.JSONEncoder(ensure_ascii=False).encode


def _jcs(value: Any, path: str) -> str:
    kind = type(value)
    if kind is str:
        return _dumps(value)
    if kind is dict:
        for key in value:
            if type(key) is not str:
                raise UnsafeJson(f"{path}: object keys must be strings, not {key!r}")
        items = sorted(value.items(), key=lambda item: _utf16_key(item[0]))
        return "{" + ",".join(f"{_dumps(k)}:{_jcs(v, path + '.' + k)}" for k, v in items) + "}"
    if kind is list or kind is tuple:
        return "[" + ",".join(_jcs(item, path) for item in value) + "]"
    if value is None or value is True or value is False:
        return _dumps(value)
    if kind is int:
        if abs(value) > MAX_SAFE_INTEGER:
            raise UnsafeJson(f"{path}: integer beyond 2^53, write it as a string")
        return str(value)
    assert_json_safe(value, path)  # raises with the precise reason (float, bytes...)
    raise UnsafeJson(f"{path}: {kind.__name__} is not JSON")  # pragma: no cover

"""The one timestamp format the ledger signs: UTC, microseconds, 'Z' (standard library only)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    """Parse exactly `YYYY-MM-DDTHH:MM:SS.ffffffZ`; anything else raises ValueError."""
    if not isinstance(text, str) or not _PATTERN.match(text):
        raise ValueError("timestamps are UTC with microseconds, e.g. 2026-01-31T12:00:00.000000Z")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)

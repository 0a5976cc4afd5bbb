"""Junk sent to every write endpoint is a JSON 4xx, never a 500 and never a write."""

from __future__ import annotations

import pytest

from ledger.models import Transaction
from tests.impact.helpers import issued, submitted_claim

JUNK = [
    "[]",
    '"text"',
    "null",
    "{}",
    '{"quantity": "lots", "token_class": 7, "recipient": null}',
    '{"quantity": 1e400, "unit_price_cents": -1, "decision": "maybe"}',
    '{"items": [1, 2], "service": {}, "reference": ["a"]}',
    '{"parameters": {"distance_km": {"x": 1}}, "methodology": "x", "period_start": 5}',
    '{"type": "trip-export", "content_base64": "!!!"}',
    '{"recomputed_quantity": 99999999999999999999999, "decision": "approve"}',
    '{"serials": "1..5", "signature": "zz", "created_at": "now", "quantity": 1}',
]


@pytest.mark.parametrize("raw", JUNK)
def test_junk_is_a_json_4xx(as_, resident, curator_member, raw):
    issued(resident, curator_member, "100")
    claim = submitted_claim(resident)
    paths = [
        "cities/bourg/claims",
        f"cities/bourg/claims/{claim.public_id}/evidence",
        f"cities/bourg/claims/{claim.public_id}/submit",
        f"cities/bourg/claims/{claim.public_id}/verify",
        "cities/bourg/claims/batches",
        "cities/bourg/claims/batches/prepare",
        "cities/bourg/transfers",
        "cities/bourg/transfers/prepare",
        "cities/bourg/retirements",
        "cities/bourg/retirements/prepare",
        "cities/bourg/redemptions",
        "cities/bourg/offers",
        "cities/bourg/offers/nope/buy",
        "cities/bourg/forward-orders",
    ]
    before = Transaction.objects.count()
    for who in (resident, curator_member):
        client = as_(who)
        for path in paths:
            response = client.post(path, raw=raw)
            assert 400 <= response.status_code < 500, (path, raw, response.content)
            assert "error" in response.json(), (path, response.content)
    assert Transaction.objects.count() == before

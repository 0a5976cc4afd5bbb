"""Bad bodies that must never be a 500, on the write endpoints, from callers whose
permission holds.

Who gets which status on every endpoint (anonymous 401, other cities and applicants 403, a
hidden draft 404…) is the authorization matrix: tests/authz/matrix.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from .support import assert_error, world

pytestmark = pytest.mark.django_db

CLOSES = (timezone.now() + timedelta(hours=48)).isoformat()


def member_writes(p: str) -> list[tuple[str, dict]]:
    base = f"cities/bourg/proposals/{p}"
    return [
        ("cities/bourg/proposals", {"kind": "general", "title": "T"}),
        (f"{base}/amend", {"title": "T"}),
        (f"{base}/open", {"closes_at": CLOSES}),
        (f"{base}/comments", {"body": "B"}),
        (f"{base}/votes/prepare", {"choice": "yes"}),
        (f"{base}/votes", {"choice": "yes"}),
    ]


def staff_writes(m: str) -> list[tuple[str, dict]]:
    base = f"cities/bourg/memberships/{m}"
    return [(f"{base}/approve", {}), (f"{base}/refuse", {"reason": "R"}), (f"{base}/revoke", {})]


@pytest.fixture
def targets(open_proposal, applicant):
    return {"proposal": open_proposal.public_id, "membership": applicant.public_id}


@pytest.mark.parametrize("raw", ["[]", '"yes"', "null", "12", "{", '{"a": ' * 5000])
def test_a_body_that_is_no_json_object_is_400_everywhere(as_, resident, staff, targets, raw):
    """The author of the open proposal and the staff: callers whose permission holds."""
    before = world()

    for path, _ in member_writes(targets["proposal"]):
        assert_error(as_(resident).post(path, raw=raw), 400)
    assert_error(as_(staff).post(staff_writes(targets["membership"])[1][0], raw=raw), 400)
    assert_error(as_(staff).post("cities/bourg/memberships", raw=raw), 400)

    assert world() == before


@pytest.mark.parametrize(
    "closes_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2030-02-30T00:00"]
)
def test_dates_out_of_range_are_400(as_, resident, proposal, closes_at):
    response = as_(resident).post(
        f"cities/bourg/proposals/{proposal.public_id}/open", {"closes_at": closes_at}
    )
    assert_error(response, 400)

"""The access matrix of every write endpoint, and bad bodies that must never be a 500.

Anonymous: 401. Signed in but no approved member of this city (a stranger, a pending
applicant, a member or the staff of another city): 403. A resident on the municipality's
endpoints: 403. A draft the caller may not see: 404, like a missing proposal."""

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


def test_anonymous_writes_are_401(anonymous, targets):
    writes = member_writes(targets["proposal"]) + staff_writes(targets["membership"])
    writes.append(("cities/bourg/memberships", {"college": "residents"}))
    before = world()

    for path, body in writes:
        response = anonymous.post(path, body)
        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Token"

    assert world() == before


@pytest.mark.parametrize("who", ["outsider", "applicant", "foreigner", "other_mayor"])
def test_non_members_of_the_city_are_403_on_every_member_write(request, as_, targets, who):
    client = as_(request.getfixturevalue(who))
    before = world()

    for path, body in member_writes(targets["proposal"]):
        assert_error(client.post(path, body), 403, "not_allowed")

    assert world() == before


@pytest.mark.parametrize("who", ["resident", "provider", "neighbour", "outsider", "foreigner"])
def test_only_the_citys_staff_use_the_staff_endpoints(request, as_, targets, who):
    client = as_(request.getfixturevalue(who))
    before = world()

    assert_error(client.get("cities/bourg/memberships"), 403, "not_allowed")
    for path, body in staff_writes(targets["membership"]):
        assert_error(client.post(path, body), 403, "not_allowed")

    assert world() == before


def test_a_hidden_draft_is_404_on_every_proposal_endpoint(as_, anonymous, neighbour, proposal):
    client = as_(neighbour)
    base = f"cities/bourg/proposals/{proposal.public_id}"

    for path in (f"{base}/", f"{base}/results", f"{base}/receipt"):
        assert_error(client.get(path), 404, "not_found")
    for path, body in member_writes(proposal.public_id)[1:]:
        assert_error(client.post(path, body), 404, "not_found")
    assert_error(anonymous.get(f"{base}/"), 404, "not_found")


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

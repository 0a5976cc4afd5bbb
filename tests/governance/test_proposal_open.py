"""Opening a vote freezes the rules in force and snapshots the electorate (approved members at
that moment), whose digest and sizes go on the ledger; the period must be within the rules."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from governance.errors import InvalidPeriod, NotAllowed, WrongState
from governance.models import ElectorateEntry
from governance.rules import default_rules
from governance.services import (
    membership_refuse,
    membership_revoke,
    proposal_open,
    rules_in_force,
)
from governance.tally import electorate_digest

from .helpers import (
    adopt_rules,
    appoint,
    city_transactions,
    draft,
    join,
    open_vote,
    request,
    writes_nothing,
)

pytestmark = pytest.mark.django_db


def test_opening_freezes_the_rules_and_snapshots_the_approved_members(
    city, staff, mayor, resident, provider
):
    request(city, "residents")  # pending: not in the electorate
    membership_refuse(membership=request(city, "residents"), by=staff, reason="non")
    membership_revoke(membership=join(city, "providers", by=staff), by=staff)
    second_resident = join(city, "residents", by=staff)
    now = timezone.now()
    closes_at = now + timedelta(hours=72)

    proposal = proposal_open(proposal=draft(resident), by=resident, closes_at=closes_at, now=now)

    assert proposal.status == "open"
    assert (proposal.opens_at, proposal.closes_at) == (now, closes_at)
    assert proposal.rules == rules_in_force(city)
    seats = ElectorateEntry.objects.filter(proposal=proposal)
    assert {(s.membership_id, s.college.slug, s.did) for s in seats} == {
        (m.pk, m.college.slug, m.identity.did) for m in (mayor, resident, provider, second_resident)
    }
    assert proposal.electorate_sizes == {"residents": 2, "providers": 1, "municipality": 1}
    rows = [(m.college.slug, m.identity.did) for m in (mayor, resident, provider, second_resident)]
    assert proposal.electorate_digest == electorate_digest(rows)
    assert proposal.electorate_digest == electorate_digest(list(reversed(rows)))  # order-free

    (entry,) = city_transactions(city, "governance.proposal.open")
    assert entry.actor == resident.identity.did
    assert entry.payload == {
        "proposal": proposal.public_id,
        "rules_version": 1,
        "rules": default_rules(),
        "electorate": proposal.electorate_digest,
        "electorate_sizes": {"residents": 2, "providers": 1, "municipality": 1},
        "closes_at": closes_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_the_electorate_digest_is_sha256_of_the_jcs_of_sorted_pairs():
    import hashlib

    rows = [("residents", "did:key:zB"), ("municipality", "did:key:zA")]
    expected = hashlib.sha256(
        b'[["municipality","did:key:zA"],["residents","did:key:zB"]]'
    ).hexdigest()
    assert electorate_digest(rows) == expected
    assert electorate_digest([]) == hashlib.sha256(b"[]").hexdigest()


def test_the_electorate_digest_of_the_server_is_the_stdlib_one():
    from governance import services, tally

    assert services.electorate_digest is tally.electorate_digest


def test_municipality_staff_open_anyone_s_proposal(city, mayor, resident):
    assert open_vote(draft(resident), by=mayor).status == "open"


def test_another_member_cannot_open_a_proposal(city, mayor, resident, provider):
    proposal = draft(resident)
    with writes_nothing(), pytest.raises(NotAllowed):
        open_vote(proposal, by=provider)


def test_staff_of_another_city_cannot_open_a_proposal(city, other_city, operator, resident):
    foreign_staff = appoint(other_city, operator)
    proposal = draft(resident)
    with writes_nothing(), pytest.raises(NotAllowed):
        open_vote(proposal, by=foreign_staff)


def test_a_revoked_author_cannot_open_their_draft(city, staff, resident):
    proposal = draft(resident)
    membership_revoke(membership=resident, by=staff)
    with writes_nothing(), pytest.raises(NotAllowed):
        open_vote(proposal, by=resident)


def test_a_vote_opens_once(city, resident):
    proposal = open_vote(draft(resident))
    with writes_nothing(), pytest.raises(WrongState):
        open_vote(proposal)


@pytest.mark.parametrize(
    "period",
    [timedelta(hours=23, minutes=59), timedelta(hours=720, seconds=1), timedelta(0), -timedelta(1)],
)
def test_the_period_must_be_within_the_rules(city, resident, period):
    proposal = draft(resident)
    now = timezone.now()
    with writes_nothing(), pytest.raises(InvalidPeriod):
        proposal_open(proposal=proposal, by=resident, closes_at=now + period, now=now)


@pytest.mark.parametrize("hours", [24, 720])
def test_the_period_bounds_are_inclusive(city, resident, hours):
    now = timezone.now()
    proposal = proposal_open(
        proposal=draft(resident), by=resident, closes_at=now + timedelta(hours=hours), now=now
    )
    assert proposal.status == "open"


def test_the_period_follows_the_rules_in_force(city, mayor, resident):
    rules = default_rules()
    rules["voting_period_hours"] = {"min": 1, "max": 2}
    adopt_rules(city, mayor, rules)
    now = timezone.now()
    proposal = draft(resident)
    with writes_nothing(), pytest.raises(InvalidPeriod):
        proposal_open(proposal=proposal, by=resident, closes_at=now + timedelta(hours=3), now=now)
    opened = proposal_open(
        proposal=proposal, by=resident, closes_at=now + timedelta(hours=2), now=now
    )
    assert opened.rules.version == 2


def test_a_member_approved_after_the_opening_is_not_in_the_electorate(city, staff, resident):
    proposal = open_vote(draft(resident))
    late = join(city, "residents", by=staff)
    assert not ElectorateEntry.objects.filter(proposal=proposal, membership=late).exists()
    proposal.refresh_from_db()
    assert proposal.electorate_sizes == {"residents": 1, "municipality": 1}

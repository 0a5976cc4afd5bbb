"""No response shows a member's personal data to anyone but its owner and the city's
municipality staff: postal addresses, SIRET numbers, names and e-mails stay in the staff's
list. Members appear everywhere else as their college and DID."""

from __future__ import annotations

import pytest

from governance import services

from .support import ask, close, draft, join, open_vote

pytestmark = pytest.mark.django_db

SECRET_ADDRESS = "12 impasse des Secrets"
SECRET_SIRET = "40483304800006"
VIEWERS = ["anonymous", "outsider", "foreigner", "other_mayor", "resident", "provider"]


@pytest.fixture
def holders(city, staff):
    """A resident, a provider and an applicant whose evidence nobody else may read."""
    return {
        "resident": join(city, "residents", by=staff, address=SECRET_ADDRESS),
        "provider": join(city, "providers", by=staff, siret=SECRET_SIRET),
        "applicant": ask(city, "residents", address=SECRET_ADDRESS),
    }


@pytest.fixture
def busy_city(city, mayor, resident, provider, holders):
    """Every kind of object the public endpoints show: a debated and closed vote with
    ballots, an open vote with a ballot, a draft."""
    voted = open_vote(draft(holders["resident"]))
    services.comment_add(proposal=voted, member=holders["provider"], body="D'accord.")
    for member in (mayor, resident, provider, holders["resident"], holders["provider"]):
        services.vote_cast(proposal=voted, member=member, choice="yes")
    close(voted)
    opened = open_vote(draft(holders["provider"]))
    services.vote_cast(proposal=opened, member=holders["resident"], choice="no")
    hidden = draft(holders["resident"])
    return {"voted": voted, "open": opened, "draft": hidden}


def readable_paths(proposals) -> list[str]:
    paths = [
        "cities/",
        "cities/bourg/",
        "cities/bourg/rules/",
        "cities/bourg/proposals/",
        "cities/bourg/proposals/?status=draft",
        "cities/bourg/treasury",
        "cities/bourg/votes/me",
        "cities/bourg/memberships/me",
    ]
    for proposal in proposals.values():
        base = f"cities/bourg/proposals/{proposal.public_id}"
        paths += [f"{base}/", f"{base}/results", f"{base}/receipt"]
    return paths


def secrets_of(memberships) -> list[str]:
    found = [SECRET_ADDRESS, SECRET_SIRET]
    for m in memberships:
        found += [m.user.email, m.user.username, m.user.public_id]
        found += [part for part in (m.user.first_name, m.user.last_name) if len(part) > 3]
    return found


@pytest.mark.parametrize("who", VIEWERS)
def test_nobody_but_staff_reads_a_members_personal_data(
    request, as_, anonymous, busy_city, holders, mayor, who
):
    client = anonymous if who == "anonymous" else as_(request.getfixturevalue(who))
    secrets = secrets_of([mayor, *holders.values()])

    for path in readable_paths(busy_city):
        response = client.get(path)
        assert response.status_code < 500, (path, response.content)
        text = response.content.decode()
        for secret in secrets:
            assert secret not in text, (path, secret)

    for status in ("pending", "approved"):
        response = client.get("cities/bourg/memberships", {"status": status})
        assert response.status_code in (401, 403)
        assert SECRET_ADDRESS not in response.content.decode()


def test_staff_read_the_evidence_they_check(as_, busy_city, staff, holders):
    pending = as_(staff).get("cities/bourg/memberships").content.decode()
    members = as_(staff).get("cities/bourg/memberships", {"status": "approved"}).content.decode()

    assert SECRET_ADDRESS in pending
    assert SECRET_ADDRESS in members and SECRET_SIRET in members
    assert holders["resident"].user.email in members


def test_a_member_reads_their_own_evidence(as_, busy_city, holders):
    body = as_(holders["resident"]).get("cities/bourg/memberships/me").json()

    assert body["postal_address"] == SECRET_ADDRESS
    assert body["public_id"] == holders["resident"].public_id

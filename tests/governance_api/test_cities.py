"""GET cities/, cities/{slug}/ and cities/{slug}/rules/: public reads."""

from __future__ import annotations

import pytest

from governance import services
from governance.models import RulesVersion
from governance.rules import default_rules

from .support import POSTAL_CODES, assert_error, close, draft, open_vote

pytestmark = pytest.mark.django_db


def test_the_cities_are_listed_with_their_member_counts(anonymous, city, other_city, resident):
    response = anonymous.get("cities/")

    assert response.status_code == 200, response.content
    by_slug = {c["slug"]: c for c in response.json()}
    assert set(by_slug) == {"bourg", "annecy"}
    # The mayor and the resident; staff appointed in the other city: none yet.
    assert by_slug["bourg"] == {
        "slug": "bourg",
        "name": "Bourg",
        "chain": "bourg",
        "postal_codes": POSTAL_CODES,
        "member_count": 2,
        "independent_at": None,
    }
    assert by_slug["annecy"]["member_count"] == 0


def test_the_list_of_cities_answers_without_its_trailing_slash_too(anonymous, city):
    assert anonymous.get("cities").json() == anonymous.get("cities/").json()


def test_a_city_shows_its_colleges_rules_in_force_and_postal_codes(
    anonymous, city, mayor, resident, provider, applicant
):
    response = anonymous.get("cities/bourg/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["slug"] == "bourg"
    assert body["chain"] == "bourg"
    assert body["municipality_did"] == city.identity.did
    assert body["postal_codes"] == POSTAL_CODES
    assert [(c["slug"], c["kind"], c["member_count"]) for c in body["colleges"]] == [
        ("residents", "residents", 1),  # the pending applicant does not count
        ("providers", "providers", 1),
        ("municipality", "municipality", 1),
    ]
    version = RulesVersion.objects.get(city=city, version=1)
    assert body["rules"] == {
        "version": 1,
        "digest": version.digest,
        "rules": default_rules(),
        "created_at": body["rules"]["created_at"],
        "adopted_by": None,
    }


def test_an_unknown_city_is_404(anonymous, city):
    for path in ("cities/nowhere/", "cities/nowhere/rules/", "cities/nowhere/treasury"):
        assert_error(anonymous.get(path), 404, "not_found")


def test_the_rules_history_names_the_proposal_that_adopted_each_version(
    anonymous, city, mayor, staff
):
    rules = default_rules()
    rules["approval_threshold_percent"] = 66
    amendment = open_vote(draft(mayor, "amend_rules", rules=rules))
    services.vote_cast(proposal=amendment, member=mayor, choice="yes")

    amendment = services.proposal_execute(proposal=close(amendment))
    assert amendment.status == "executed"

    response = anonymous.get("cities/bourg/rules/")

    assert response.status_code == 200, response.content
    history = response.json()
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["adopted_by"] == amendment.public_id
    assert history[0]["rules"]["approval_threshold_percent"] == 66
    assert history[0]["digest"] == services.rules_digest(history[0]["rules"])
    assert history[1]["adopted_by"] is None
    in_force = anonymous.get("cities/bourg/").json()["rules"]
    assert in_force["version"] == 2

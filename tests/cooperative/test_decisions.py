"""Network decisions voted by the cooperative: audit standards, fees schedule, a new city, a
city's independence, a member admitted by vote."""

from __future__ import annotations

import pytest

from cooperative.models import MovementStatus, NetworkDecision
from cooperative.services import member_of, share_subscribe
from governance.errors import InvalidInput, NotAllowed
from governance.models import City, ProposalStatus, RulesVersion
from governance.services import city_create, proposal_create
from ledger.models import Transaction
from tests.factories import UserFactory

from .helpers import general_assembly


def test_audit_standards_and_fees_are_recorded(board_member, client_member):
    general_assembly(
        board_member,
        "audit_standards",
        {"version": "2026.1", "document_digest": "cd" * 32, "effective_from": "2026-01-01"},
        voters=[board_member, client_member],
    )
    general_assembly(
        board_member,
        "fees_schedule",
        {"fees": {"audit": 150_000, "listing": 0}, "effective_from": "2026-02-01"},
        voters=[board_member, client_member],
    )
    kinds = dict(NetworkDecision.objects.values_list("kind", "parameters"))
    assert kinds["audit_standards"]["version"] == "2026.1"
    assert kinds["fees_schedule"]["fees"] == {"audit": 150_000, "listing": 0}
    entry = Transaction.objects.get(kind="cooperative.decision.fees_schedule")
    assert entry.chain.slug == "network"
    assert entry.payload["fees"]["audit"] == 150_000


def test_admitting_a_city_creates_it(board_member, client_member):
    proposal = general_assembly(
        board_member,
        "admit_city",
        {"slug": "sete", "name": "Sète", "postal_codes": ["34200"]},
        voters=[board_member, client_member],
    )
    assert proposal.status == ProposalStatus.EXECUTED
    city = City.objects.get(slug="sete")
    assert city.postal_codes == ["34200"]
    assert Transaction.objects.filter(kind="governance.city.create", payload__city="sete").exists()


@pytest.mark.parametrize(
    "parameters",
    [
        {"slug": "network", "name": "x", "postal_codes": ["34000"]},
        {"slug": "Sete", "name": "Sète", "postal_codes": ["34200"]},
        {"slug": "sete", "name": "Sète", "postal_codes": ["342"]},
    ],
)
def test_a_city_admission_is_checked_when_drafted(board_member, parameters):
    with pytest.raises(InvalidInput):
        proposal_create(author=board_member, kind="admit_city", title="x", parameters=parameters)


def test_independence_is_acknowledged_without_touching_the_citys_own_vote(
    operator, board_member, client_member
):
    city = city_create(operator=operator, slug="bourg", name="Bourg", postal_codes=["01000"])
    general_assembly(
        board_member, "city_independence", {"city": "bourg"}, voters=[board_member, client_member]
    )
    decision = NetworkDecision.objects.get(kind="city_independence")
    assert decision.effect["city_decided"] is False
    city.refresh_from_db()
    assert city.independent_at is None  # only the city's own become_independent sets it


def test_a_member_admitted_by_vote(body, board_member, client_member):
    version = body.rules_versions.get()
    rules = {**version.rules, "cooperative": {**version.rules["cooperative"], "admission": "vote"}}
    RulesVersion.objects.create(city=body, version=2, rules=rules, digest="0" * 64)
    newcomer = UserFactory()
    movement = share_subscribe(
        user=newcomer, shares=2, horizon_years=0, college=body.colleges.get(slug="data-providers")
    )
    general_assembly(
        client_member,
        "admit_member",
        {"subscription": movement.public_id},
        voters=[board_member, client_member],
    )
    movement.refresh_from_db()
    assert movement.status == MovementStatus.DONE
    assert member_of(newcomer, body).college.slug == "data-providers"


def test_a_city_cannot_propose_network_decisions(operator):
    from governance.services import membership_appoint

    city = city_create(operator=operator, slug="bourg", name="Bourg", postal_codes=["01000"])
    mayor = membership_appoint(operator=operator, user=UserFactory(), city=city)
    with pytest.raises(NotAllowed):
        proposal_create(
            author=mayor,
            kind="approve_accounts",
            title="x",
            parameters={"year": 2025, "result_cents": 1, "accounts_digest": "ab" * 32},
        )


def test_only_operators_propose_accounts(client_member):
    with pytest.raises(NotAllowed):
        proposal_create(
            author=client_member,
            kind="approve_accounts",
            title="x",
            parameters={"year": 2025, "result_cents": 1, "accounts_digest": "ab" * 32},
        )


def test_vote_e_mails_link_to_the_cooperative_pages(board_member):
    from governance.notifications import proposal_url

    proposal = proposal_create(author=board_member, kind="general", title="A question")
    assert proposal_url(proposal).endswith(f"/cooperative/p/{proposal.public_id}/")

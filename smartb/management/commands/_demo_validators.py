"""Demo: montpellier's ledger validated by 3 of 4 validators (the platform, the city's DID and
two provider members' custodial DIDs), set by an accepted rules amendment. Idempotent."""

from __future__ import annotations

import copy
from datetime import timedelta

from django.utils import timezone

from governance import services as gov
from governance.models import (
    City,
    Membership,
    MembershipStatus,
    Proposal,
    ProposalKind,
    ProposalStatus,
)
from identity.models import User
from ledger.models import ValidatorChange
from ledger.services import chain_seal
from ledger.signing import platform_validator

SECOND_PROVIDER = ("energie@demo.smartb.fr", "55208131766522")


def seed_validators(city: City) -> None:
    """Adopt rules naming the 3-of-4 validator set, then seal the block that records it.

    Blocks after that one are co-signed at once by the platform and the three custodial
    validators, so they are final when sealed."""
    if ValidatorChange.objects.filter(chain=city.chain).exists():
        return
    # Votes closed earlier execute when the seed commits; carry them out first, so this
    # amendment builds on the rules they adopt (execution is idempotent).
    for accepted in Proposal.objects.filter(city=city, status=ProposalStatus.ACCEPTED):
        gov.proposal_execute(proposal=accepted)
    members = {
        m.user.email: m
        for m in Membership.objects.filter(
            city=city, status=MembershipStatus.APPROVED
        ).select_related("user", "identity")
    }
    mairie = members["mairie@demo.smartb.fr"]
    email, siret = SECOND_PROVIDER
    if email not in members:
        request = gov.membership_request(
            user=User.objects.get(email=email),
            city=city,
            college=city.colleges.get(slug="providers"),
            siret=siret,
        )
        members[email] = gov.membership_approve(membership=request, by=mairie.user)
    rules = copy.deepcopy(gov.rules_in_force(city).rules)
    rules["validators"] = {
        "members": [
            platform_validator().did,
            city.identity.did,
            members["provider@demo.smartb.fr"].identity.did,
            members[email].identity.did,
        ],
        "quorum": 3,
    }
    proposal = gov.proposal_create(
        author=mairie,
        kind=ProposalKind.AMEND_RULES,
        title="Quatre validateurs pour le registre de la ville",
        body=(
            "La plateforme, la ville et deux fournisseurs cosignent chaque bloc ; "
            "un bloc est final quand trois d'entre eux l'ont signé."
        ),
        parameters={"rules": rules},
    )
    proposal = gov.proposal_open(
        proposal=proposal, by=mairie, closes_at=timezone.now() + timedelta(hours=25)
    )
    voters = [
        "mairie@demo.smartb.fr",
        "resident@demo.smartb.fr",
        "curator@demo.smartb.fr",
        "lea@demo.smartb.fr",
        "provider@demo.smartb.fr",
        email,
    ]
    for voter in voters:
        if voter in members:
            gov.vote_cast(proposal=proposal, member=members[voter], choice="yes")
    proposal = gov.proposal_close(proposal=proposal, now=proposal.closes_at + timedelta(minutes=1))
    gov.proposal_execute(proposal=proposal)
    # The block holding the change, signed by the set in force until then.
    chain_seal(chain=city.chain)

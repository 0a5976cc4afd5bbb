"""No personal data on the ledger: postal addresses, SIRET numbers, proposal titles and texts,
comments, refusal reasons and treasury labels stay in the database; every transaction payload
of a busy city is scanned for them. The secrets are written without spaces, so the ledger's
own free-text filter would let them through: only the services keep them off."""

from __future__ import annotations

import json

import pytest

from governance.services import (
    comment_add,
    membership_approve,
    membership_refuse,
    membership_request,
    proposal_amend,
    proposal_create,
    proposal_execute,
    vote_cast,
)
from ledger.models import Transaction
from tests.factories import UserFactory

from .helpers import POSTAL_CODES, close, college, fund, open_vote

pytestmark = pytest.mark.django_db

SIRET = "41816609600069"  # valid, and unlike any id or digest of the ledger
SECRETS = {
    "address": "Appartement-7B-Allee-des-Tilleuls",
    "title": "Lavoir-Sainte-Claire-2031",
    "body": "Devis-Maconnerie-Dupont-48000",
    "amended": "Lavoir-Sainte-Claire-Toiture",
    "comment": "Mon-voisin-Jean-Martin-approuve",
    "reason": "Justificatif-illisible-Martin",
    "grant": "Subvention-Region-AURA-Lavoir",
    "siret": SIRET,
}


def test_no_personal_data_in_any_transaction_payload(city, staff, mayor):
    resident = membership_approve(
        membership=membership_request(
            user=UserFactory(),
            city=city,
            college=college(city, "residents"),
            postal_address=SECRETS["address"],
            postal_code=POSTAL_CODES[0],
        ),
        by=staff,
    )
    provider = membership_approve(
        membership=membership_request(
            user=UserFactory(), city=city, college=college(city, "providers"), siret=SIRET
        ),
        by=staff,
    )
    membership_refuse(
        membership=membership_request(
            user=UserFactory(),
            city=city,
            college=college(city, "residents"),
            postal_address=SECRETS["address"],
            postal_code=POSTAL_CODES[1],
        ),
        by=staff,
        reason=SECRETS["reason"],
    )
    fund(city, 50_000, label=SECRETS["grant"])
    proposal = proposal_create(
        author=resident,
        kind="fund_project",
        title=SECRETS["title"],
        body=SECRETS["body"],
        parameters={"amount_cents": 20_000, "recipient": provider.identity.did},
    )
    proposal = proposal_amend(
        proposal=proposal, by=resident, title=SECRETS["amended"], body=SECRETS["body"]
    )
    comment_add(proposal=proposal, member=resident, body=SECRETS["comment"])
    proposal = open_vote(proposal)
    for member in (resident, provider, mayor):
        vote_cast(proposal=proposal, member=member, choice="yes")
    proposal = proposal_execute(proposal=close(proposal))
    assert proposal.status == "executed"

    payloads = [
        json.dumps(payload, ensure_ascii=False)
        for payload in Transaction.objects.values_list("payload", flat=True)
    ]
    kinds = set(Transaction.objects.values_list("kind", flat=True))
    assert {
        "governance.membership.approve",
        "governance.membership.refuse",
        "governance.proposal.create",
        "governance.proposal.amend",
        "governance.comment.add",
        "governance.treasury.move",
        "governance.proposal.execute",
    } <= kinds
    for name, secret in SECRETS.items():
        leaks = [text for text in payloads if secret in text]
        assert leaks == [], f"the {name} is on the ledger"
    for user in (resident.user, provider.user):
        for personal in (user.email, user.last_name):
            assert not [text for text in payloads if personal in text]

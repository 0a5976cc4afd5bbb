"""The operator's cooperative in the demo: its four colleges with members who subscribed
shares (the operator and the data curator as service operators, the providers energie@ and
civiclab@, the Montpellier municipality and a resident as clients, the impact investor
investisseur@ and a resident as investors), admitted by the board; audit standards voted and
in force; the 2025 accounts approved by the general assembly with their distribution to the
investors; and an open vote on the fees schedule.

Added once: skipped when the cooperative exists.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.utils import timezone

from cooperative.services import (
    cooperative_body,
    cooperative_setup,
    member_of,
    share_subscribe,
    subscription_admit,
)
from governance import services as gov
from identity.models import User

# (e-mail, college, shares, horizon in years)
FOUNDERS = [
    ("operator@demo.smartb.fr", "operators", 20, 10),
    ("donnees@demo.smartb.fr", "operators", 2, 0),
    ("energie@demo.smartb.fr", "data-providers", 10, 5),
    ("civiclab@demo.smartb.fr", "data-providers", 5, 3),
    ("mairie@demo.smartb.fr", "clients", 10, 0),
    ("resident@demo.smartb.fr", "clients", 1, 0),
    ("investisseur@demo.smartb.fr", "investors", 50, 10),
    ("ines@demo.smartb.fr", "investors", 7, 0),
]
# A member who is already in subscribes more, under another horizon: recorded at once.
TOP_UPS = [("investisseur@demo.smartb.fr", 20, 3)]
ACCOUNTS_2025_CENTS = 18_437_519  # 184,375.19 € of result
ACCOUNTS_DOCUMENT = "Comptes annuels SMART B 2025 (bilan, compte de résultat, annexe)"
AUDIT_STANDARDS_DOCUMENT = "Référentiel d'audit SMART B 2026.1 (technique et RGPD)"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _decide(author, kind: str, title: str, parameters: dict, voters, *, body: str = ""):
    """Draft, open, vote yes in every college present, close at the deadline, execute."""
    proposal = gov.proposal_create(
        author=author, kind=kind, title=title, body=body, parameters=parameters
    )
    closes_at = timezone.now() + timedelta(hours=2)
    proposal = gov.proposal_open(proposal=proposal, by=author, closes_at=closes_at)
    for member in voters:
        gov.vote_cast(proposal=proposal, member=member, choice="yes")
    proposal = gov.proposal_close(proposal=proposal, now=closes_at + timedelta(minutes=1))
    return gov.proposal_execute(proposal=proposal)


def seed_cooperative() -> None:
    if cooperative_body() is not None:
        return
    operator = User.objects.filter(email="operator@demo.smartb.fr").first()
    if operator is None:
        return
    body = cooperative_setup(operator=operator)
    members = {}
    for email, college, shares, horizon in FOUNDERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            continue
        movement = share_subscribe(
            user=user,
            shares=shares,
            horizon_years=horizon,
            college=body.colleges.get(slug=college),
        )
        subscription_admit(movement=movement, by=operator)
        members[email] = member_of(user, body)
    for email, shares, horizon in TOP_UPS:
        if email in members:
            share_subscribe(user=members[email].user, shares=shares, horizon_years=horizon)
    board = members["operator@demo.smartb.fr"]
    voters = list(members.values())
    _decide(
        board,
        "audit_standards",
        "Référentiel d'audit 2026.1",
        {
            "version": "2026.1",
            "document_digest": _digest(AUDIT_STANDARDS_DOCUMENT),
            "effective_from": "2026-01-01",
        },
        voters,
        body="Les audits techniques et juridiques (RGPD) suivent ce référentiel.",
    )
    _decide(
        board,
        "approve_accounts",
        "Approbation des comptes 2025",
        {
            "year": 2025,
            "result_cents": ACCOUNTS_2025_CENTS,
            "accounts_digest": _digest(ACCOUNTS_DOCUMENT),
        },
        voters,
        body="L'assemblée générale approuve les comptes 2025 et la distribution aux investisseurs.",
    )
    fees = gov.proposal_create(
        author=board,
        kind="fees_schedule",
        title="Barème des frais 2026",
        body="Frais d'audit et de mise en service du réseau.",
        parameters={
            "fees": {"audit-technique": 30_000, "audit-juridique": 20_000, "mise-en-service": 0},
            "effective_from": "2026-03-01",
        },
    )
    gov.proposal_open(proposal=fees, by=board, closes_at=timezone.now() + timedelta(days=14))

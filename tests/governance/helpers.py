"""Helpers the governance tests share: building members and votes through the services, and
checking that a refused action wrote nothing."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.utils import timezone

from governance.models import (
    Account,
    Ballot,
    City,
    College,
    Comment,
    ElectorateEntry,
    Membership,
    Movement,
    Posting,
    Proposal,
    RulesVersion,
)
from governance.services import (
    account_balance,
    membership_appoint,
    membership_approve,
    membership_request,
    proposal_close,
    proposal_create,
    proposal_execute,
    proposal_open,
    treasury_move,
    vote_cast,
)
from identity.models import Credential, User
from ledger.models import Chain, Transaction
from tests.factories import UserFactory

POSTAL_CODES = ["01000", "01440"]
VALID_SIRET = "73282932000074"
INVALID_SIRET = "73282932000075"
VOTING_HOURS = 48


def snapshot() -> dict:
    """Every row a governance service may write, to check that a refusal wrote nothing."""
    return {
        "transactions": list(Transaction.objects.order_by("pk").values_list("pk", "tx_hash")),
        "chains": list(Chain.objects.order_by("slug").values_list("slug", "size")),
        "users": User.objects.count(),
        "cities": list(City.objects.order_by("pk").values_list("pk", "independent_at")),
        "colleges": College.objects.count(),
        "memberships": list(
            Membership.objects.order_by("pk").values_list(
                "pk", "status", "college_id", "credential_id", "decided_at", "reason"
            )
        ),
        "credentials": list(Credential.objects.order_by("pk").values_list("pk", "revoked_at")),
        "rules": list(RulesVersion.objects.order_by("pk").values_list("pk", "version")),
        "proposals": list(
            Proposal.objects.order_by("pk").values_list(
                "pk",
                "status",
                "title",
                "body",
                "parameters",
                "rules_id",
                "closes_at",
                "closed_at",
                "executed_at",
                "tally",
                "failure_reason",
            )
        ),
        "electorate": ElectorateEntry.objects.count(),
        "ballots": list(Ballot.objects.order_by("pk").values_list("pk", "choice", "entry_id")),
        "comments": Comment.objects.count(),
        "movements": Movement.objects.count(),
        "postings": Posting.objects.count(),
        "accounts": Account.objects.count(),
    }


@contextmanager
def writes_nothing():
    """Use as `with writes_nothing(), pytest.raises(Error):` — the refusal left no trace."""
    before = snapshot()
    yield
    after = snapshot()
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"a refused action wrote to: {', '.join(changed)}"


def city_transactions(city: City, kind: str | None = None):
    entries = Transaction.objects.filter(chain=city.chain).order_by("index")
    return entries.filter(kind=kind) if kind else entries


def college(city: City, slug: str) -> College:
    return city.colleges.get(slug=slug)


def appoint(city: City, operator: User, user: User | None = None) -> Membership:
    return membership_appoint(operator=operator, user=user or UserFactory(), city=city)


def request(city: City, slug: str, user: User | None = None) -> Membership:
    """A pending request with valid evidence for the college."""
    evidence = {
        "residents": {"postal_address": "3 rue des Lilas", "postal_code": POSTAL_CODES[0]},
        "providers": {"siret": VALID_SIRET},
    }.get(slug, {})
    return membership_request(
        user=user or UserFactory(), city=city, college=college(city, slug), **evidence
    )


def join(city: City, slug: str, *, by: User, user: User | None = None) -> Membership:
    """An approved member of `slug` (residents or providers), approved by staff `by`."""
    return membership_approve(membership=request(city, slug, user), by=by)


def join_many(city: City, slug: str, count: int, *, by: User) -> list[Membership]:
    return [join(city, slug, by=by) for _ in range(count)]


def draft(author: Membership, kind: str = "general", **parameters) -> Proposal:
    return proposal_create(
        author=author,
        kind=kind,
        title="Rénover le lavoir",
        body="Le lavoir du centre a besoin d'un toit.",
        parameters=parameters,
    )


def open_vote(proposal: Proposal, *, by: Membership | None = None, hours: int = VOTING_HOURS):
    return proposal_open(
        proposal=proposal,
        by=by or proposal.author,
        closes_at=timezone.now() + timedelta(hours=hours),
    )


def cast(proposal: Proposal, votes) -> None:
    """`votes`: (membership, choice) pairs, cast in order."""
    for member, choice in votes:
        vote_cast(proposal=proposal, member=member, choice=choice)


def after_close(proposal: Proposal) -> datetime:
    return Proposal.objects.get(pk=proposal.pk).closes_at + timedelta(seconds=1)


def close(proposal: Proposal) -> Proposal:
    return proposal_close(proposal=proposal, now=after_close(proposal))


def fund(city: City, cents: int, label: str = "Subvention régionale") -> Movement:
    return treasury_move(city=city, label=label, postings=[("bank", cents), ("grants", -cents)])


def balance(city: City, code: str) -> int:
    return account_balance(Account.objects.get(city=city, code=code))


def adopt_rules(city: City, mayor: Membership, rules: dict) -> RulesVersion:
    """Change the rules the only way they change: an amend_rules vote, accepted and executed.

    Only the municipality votes; other colleges stay below their quorum."""
    proposal = draft(mayor, "amend_rules", rules=rules)
    proposal = open_vote(proposal, by=mayor)
    for seat in proposal.electorate.select_related("membership"):
        if seat.membership.college.slug == "municipality":
            vote_cast(proposal=proposal, member=seat.membership, choice="yes")
    proposal = close(proposal)
    assert proposal.status == "accepted", proposal.tally
    proposal = proposal_execute(proposal=proposal)
    assert proposal.status == "executed", proposal.failure_reason
    return RulesVersion.objects.get(adopted_by=proposal)


def export(city: City, directory: Path) -> Path:
    path = directory / f"{city.slug}.json"
    call_command("ledger_export", "--chain", city.chain.slug, "-o", str(path), stdout=StringIO())
    return path


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def ledger_verifies(city: City) -> str:
    out = StringIO()
    call_command("ledger_verify", "--chain", city.chain.slug, stdout=out, stderr=StringIO())
    return out.getvalue()

"""`python -m governance.retally BUNDLE PROPOSAL_ID`: anyone re-counts a vote from the ledger
export alone (no Django, no database) and gets the server's numbers; an edited bundle fails
verification, and a recorded tally that the ballots do not give is reported as a mismatch."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from governance.budget import (
    ProjectFields,
    budget_call_amend,
    budget_call_create,
    budget_tally,
    budget_vote_cast,
)
from governance.budget_pages import budget_panel
from governance.models import Membership, Proposal
from governance.retally import Mismatch, RetallyError, main, recount, report
from governance.rules import default_rules
from governance.services import ballot_counts, membership_revoke, vote_cast
from governance.tally import compute_tally
from ledger.services import chain_seal, ledger_append
from ledger.signing import platform_validator
from ledger.verify_bundle import verify_bundle

from .helpers import adopt_rules, cast, close, draft, export, join, join_many, load, open_vote

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def environment(**extra) -> dict[str, str]:
    """A shell with no Django project configured."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"}}
    env.update(extra)
    return env


def retally(path: Path, proposal_id: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "governance.retally", str(path), proposal_id],
        cwd=ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class Election:
    city: object
    proposal: Proposal
    residents: list[Membership]
    providers: list[Membership]
    mayor: Membership
    late: Membership


@pytest.fixture
def election(city, staff, mayor) -> Election:
    """Three residents (a fourth revoked before the vote), two providers, the mayor; a late
    joiner approved after the opening; one resident changes their vote. Half sealed."""
    residents = join_many(city, "residents", 4, by=staff)
    providers = join_many(city, "providers", 2, by=staff)
    membership_revoke(membership=residents.pop(), by=staff)
    proposal = open_vote(draft(residents[0]))
    late = join(city, "residents", by=staff)
    chain_seal(chain=city.chain)
    cast(
        proposal,
        [
            (residents[0], "yes"),
            (residents[1], "no"),
            (residents[2], "abstain"),
            (providers[0], "no"),
            (mayor, "yes"),
            (residents[1], "yes"),  # changes their mind: the last vote counts
        ],
    )
    return Election(city, proposal, residents, providers, mayor, late)


@pytest.fixture
def closed(election) -> Election:
    election.proposal = close(election.proposal)
    chain_seal(chain=election.city.chain)
    return election


def test_a_retally_from_the_export_equals_the_server_tally(closed, tmp_path):
    path = export(closed.city, tmp_path)
    result = retally(path, closed.proposal.public_id)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("MATCHES the recorded tally (index ")
    tally = closed.proposal.tally
    # residents (40): 2 yes, 0 no, 1 abstain of 3; providers (30): 1 no of 2; municipality
    # (30): 1 yes of 1 -> (40 × 2/2 + 30 × 0/1 + 30 × 1/1) / 100 = 7/10
    assert tally["weighted_result"] == "7/10" and closed.proposal.status == "accepted"
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.split()[:1]}
    table = {slug: " ".join(cells) for slug, cells in rows.items()}
    assert table["college"] == (
        "electorate yes no abstain voted turnout quorum met weight support counts"
    )
    assert table["residents"] == "3 2 0 1 3 100.00% 10% yes 40 100.00% yes"
    assert table["providers"] == "2 0 1 0 1 50.00% 10% yes 30 0.00% yes"
    assert table["municipality"] == "1 1 0 0 1 100.00% 10% yes 30 100.00% yes"
    for slug, college in tally["colleges"].items():
        electorate, yes, no, abstain, voted = rows[slug][:5]
        assert (college["electorate"], college["yes"], college["no"]) == (
            int(electorate),
            int(yes),
            int(no),
        )
        assert (college["abstain"], college["voted"]) == (int(abstain), int(voted))
    assert (
        "weighted result: (30 * 1/1 + 30 * 0/1 + 40 * 2/2) / (30 + 30 + 40) = 70 / 100 = 7/10"
        " = 70.00%"
    ) in lines
    assert "outcome: ACCEPTED (accepted when at least one college counts and the result is " in (
        result.stdout
    )
    assert (
        "ballots: 5 counted (the last of each voter), 1 replaced by a later ballot, 0 ignored"
        in result.stdout
    )
    digest = closed.proposal.electorate_digest
    assert (
        f"electorate: 6 members (municipality 1, providers 2, residents 3), digest {digest} "
        "matches the open transaction"
    ) in lines


def test_the_in_process_recount_gives_the_same_tally(closed, tmp_path):
    bundle = load(export(closed.city, tmp_path))
    verify_bundle(bundle)
    result = recount(bundle, closed.proposal.public_id)
    assert result.tally == closed.proposal.tally
    assert result.recorded_tally == closed.proposal.tally
    assert result.matches is True
    assert (result.counted, result.superseded, result.ignored) == (5, 1, 0)
    assert closed.late.identity.did not in result.electorate
    assert result.electorate_digest == closed.proposal.electorate_digest
    assert result.electorate_sizes == closed.proposal.electorate_sizes
    assert result.rules_version == 1
    assert report(result) == report(recount(bundle, closed.proposal.public_id))  # stable


def test_the_retally_imports_no_django():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, governance.retally; assert 'django' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith('django'))",
        ],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_retally_runs_where_django_cannot_be_imported(closed, tmp_path):
    blocker = tmp_path / "no-django"
    (blocker / "django").mkdir(parents=True)
    (blocker / "django" / "__init__.py").write_text("raise ImportError('no Django here')\n")
    result = retally(
        export(closed.city, tmp_path), closed.proposal.public_id, PYTHONPATH=str(blocker)
    )
    assert result.returncode == 0, result.stderr
    assert "MATCHES the recorded tally" in result.stdout


def test_a_bundle_edited_to_change_a_vote_fails_verification(closed, tmp_path):
    path = export(closed.city, tmp_path)
    bundle = load(path)
    (vote,) = [
        tx
        for tx in bundle["transactions"]
        if tx["kind"] == "governance.vote.cast" and tx["actor"] == closed.providers[0].identity.did
    ]
    vote["payload"]["choice"] = "yes"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    result = retally(path, closed.proposal.public_id)
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED the bundle does not verify: ")
    assert f"transaction index {vote['index']}" in result.stderr
    assert "MATCHES" not in result.stdout


def test_a_bundle_with_a_vote_removed_fails_verification(closed, tmp_path):
    bundle = load(export(closed.city, tmp_path))
    bundle["transactions"] = [
        tx
        for tx in bundle["transactions"]
        if not (tx["kind"] == "governance.vote.cast" and tx["actor"] == closed.mayor.identity.did)
    ]
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    assert retally(path, closed.proposal.public_id).returncode == 1


def test_a_recorded_tally_the_ballots_do_not_give_is_a_mismatch(election, tmp_path):
    """A server that signed a wrong tally (one more yes for the residents) is caught."""
    city, proposal = election.city, Proposal.objects.get(pk=election.proposal.pk)
    honest = compute_tally(
        rules=proposal.rules.rules,
        electorate=proposal.electorate_sizes,
        counts=ballot_counts(proposal),
    )
    forged = copy.deepcopy(honest)
    forged["colleges"]["residents"]["yes"] += 1
    ledger_append(
        chain=city.chain,
        actor=city.identity,
        kind="governance.proposal.close",
        payload={"proposal": proposal.public_id, "outcome": "accepted", "tally": forged},
    )
    result = retally(export(city, tmp_path), proposal.public_id)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-2:] == [
        f"MISMATCH the tally recorded at index {city.chain.size - 1} differs:",
        "  tally.colleges.residents.yes: recorded 3, recomputed 2",
    ]
    assert "MATCHES" not in result.stdout


def test_a_recorded_outcome_the_tally_does_not_give_is_a_mismatch(closed, tmp_path):
    bundle = load(export(closed.city, tmp_path))
    (close_tx,) = [t for t in bundle["transactions"] if t["kind"] == "governance.proposal.close"]
    close_tx["payload"]["outcome"] = "rejected"
    result = recount(bundle, closed.proposal.public_id)
    assert result.matches is False


def test_ballots_outside_the_electorate_or_naming_another_college_are_ignored(election, tmp_path):
    """Signed but refused by the server (forged here with ledger_append): the re-count ignores
    them and says how many."""
    city, proposal = election.city, election.proposal
    for member, college in (
        (election.late, "residents"),  # approved after the opening
        (election.residents[2], "municipality"),  # not their college
    ):
        ledger_append(
            chain=city.chain,
            actor=member.identity,
            kind="governance.vote.cast",
            payload={"proposal": proposal.public_id, "college": college, "choice": "yes"},
        )
    proposal = close(proposal)
    ledger_append(  # after the close: not counted either
        chain=city.chain,
        actor=election.residents[2].identity,
        kind="governance.vote.cast",
        payload={"proposal": proposal.public_id, "college": "residents", "choice": "no"},
    )
    bundle = load(export(city, tmp_path))
    result = recount(bundle, proposal.public_id)
    assert (result.counted, result.superseded, result.ignored) == (5, 1, 2)
    assert result.tally == proposal.tally
    assert result.matches is True
    assert "2 ignored (not in the electorate or not their college)" in report(result)


def test_an_open_vote_is_recounted_without_a_comparison(election, tmp_path):
    result = retally(export(election.city, tmp_path), election.proposal.public_id)
    assert result.returncode == 0, result.stderr
    assert "not closed in this export" in result.stdout
    assert result.stdout.splitlines()[-1] == "not closed yet: no recorded tally to compare with"


def test_an_unknown_proposal_fails(closed, tmp_path):
    result = retally(export(closed.city, tmp_path), "no-such-proposal")
    assert result.returncode == 1
    assert "FAILED no governance.proposal.open transaction for proposal no-such-proposal" in (
        result.stderr
    )


def test_a_missing_bundle_fails_cleanly(tmp_path):
    result = retally(tmp_path / "absent.json", "x")
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED") and "Traceback" not in result.stderr


def test_the_retally_uses_the_rules_frozen_with_the_vote(city, mayor, staff, tmp_path):
    resident = join(city, "residents", by=staff)
    proposal = open_vote(draft(resident))
    cast(proposal, [(resident, "yes"), (mayor, "no")])
    rules = default_rules()
    rules["colleges"]["residents"]["weight"] = 70
    rules["colleges"]["municipality"]["weight"] = 0
    adopt_rules(city, mayor, rules)
    proposal = close(proposal)
    result = recount(load(export(city, tmp_path)), proposal.public_id)
    assert result.rules_version == 1
    assert result.tally == proposal.tally
    assert result.tally["weighted_result"] == "4/7"  # 40 × 1 + 30 × 0 over 70, not 70 / 70
    assert result.matches


def mutate(bundle: dict, kind: str, edit) -> dict:
    bundle = copy.deepcopy(bundle)
    for tx in bundle["transactions"]:
        if tx["kind"] == kind:
            edit(tx["payload"])
    return bundle


def test_an_electorate_the_memberships_do_not_give_is_a_mismatch(closed, tmp_path):
    bundle = load(export(closed.city, tmp_path))
    pid = closed.proposal.public_id

    with pytest.raises(Mismatch, match="electorate: .* give digest"):
        recount(
            mutate(bundle, "governance.proposal.open", lambda p: p.update(electorate="0" * 64)), pid
        )
    with pytest.raises(Mismatch, match="electorate sizes"):
        recount(
            mutate(
                bundle,
                "governance.proposal.open",
                lambda p: p["electorate_sizes"].update(residents=4),
            ),
            pid,
        )
    revokes = mutate(bundle, "governance.membership.revoke", lambda p: p.update(membership="x"))
    with pytest.raises(Mismatch, match="electorate"):  # the revoked resident would be back
        recount(revokes, pid)


def test_rules_other_than_the_adopted_version_are_a_mismatch(closed, tmp_path):
    bundle = load(export(closed.city, tmp_path))
    pid = closed.proposal.public_id

    def lower_threshold(payload):
        payload["rules"]["approval_threshold_percent"] = 10

    with pytest.raises(Mismatch, match="not rules version 1"):
        recount(mutate(bundle, "governance.proposal.open", lower_threshold), pid)
    with pytest.raises(Mismatch, match="never adopted"):
        recount(
            mutate(bundle, "governance.proposal.open", lambda p: p.update(rules_version=7)), pid
        )
    with pytest.raises(Mismatch, match="digest of rules version 1"):
        recount(mutate(bundle, "governance.rules.adopt", lambda p: p.update(digest="0" * 64)), pid)


def test_a_proposal_opened_twice_is_a_mismatch(closed, tmp_path):
    bundle = load(export(closed.city, tmp_path))
    (opened,) = [t for t in bundle["transactions"] if t["kind"] == "governance.proposal.open"]
    twice = copy.deepcopy(bundle)
    twice["transactions"].append({**copy.deepcopy(opened), "index": len(twice["transactions"])})
    with pytest.raises(Mismatch, match="opened more than once"):
        recount(twice, closed.proposal.public_id)
    with pytest.raises(RetallyError, match="lacks 'rules'"):
        recount(
            mutate(bundle, "governance.proposal.open", lambda p: p.pop("rules")),
            closed.proposal.public_id,
        )


def test_several_votes_in_one_export_are_recounted_apart(closed, staff, tmp_path):
    city = closed.city
    second = open_vote(draft(closed.residents[1]))
    vote_cast(proposal=second, member=closed.mayor, choice="no")
    second = close(second)
    bundle = load(export(city, tmp_path))
    assert recount(bundle, closed.proposal.public_id).tally == closed.proposal.tally
    other = recount(bundle, second.public_id)
    assert other.tally == second.tally and other.counted == 1


def test_a_proposal_id_beginning_with_a_dash_is_not_taken_for_an_option(closed, tmp_path, capsys):
    """Public ids are URL-safe base64: about one in 32 begins with "-"."""
    path = export(closed.city, tmp_path)
    assert main([str(path), "-Xy_z"]) == 1
    assert "no governance.proposal.open transaction for proposal -Xy_z" in capsys.readouterr().err
    assert (
        main(["--validator", platform_validator().did, str(path), closed.proposal.public_id]) == 0
    )
    assert "MATCHES the recorded tally" in capsys.readouterr().out


# --- participatory budgets ------------------------------------------------------------------

BUDGET = 100_000
PROJECTS = [  # (title, cost): A, B, C, D at positions 1..4
    ("Aire de jeux", 60_000),
    ("Bancs", 50_000),
    ("Composteurs", 30_000),
    ("Dalles", 10_000),
]


@dataclass
class BudgetElection:
    city: object
    call: Proposal
    projects: list  # A, B, C, D
    residents: list[Membership]
    providers: list[Membership]
    mayor: Membership


def picks(election: BudgetElection, letters: str) -> list[str]:
    return [election.projects["ABCD".index(letter)].public_id for letter in letters]


@pytest.fixture
def budget_election(city, staff, mayor) -> BudgetElection:
    """Four residents, two providers, the mayor. Before the vote the author withdraws a
    project and changes another (the ledger records both); one resident changes their picks.
    Residents: AC, AD, BC, nothing; providers: BC, BD; municipality: AC."""
    residents = join_many(city, "residents", 4, by=staff)
    providers = join_many(city, "providers", 2, by=staff)
    call = budget_call_create(
        author=residents[0],
        title="Budget participatif",
        budget_cents=BUDGET,
        projects=[
            ProjectFields(title=title, cost_cents=cost, recipient=providers[0].identity.did)
            for title, cost in [*PROJECTS, ("Retiré", 5_000)]
        ],
    )
    withdrawn = call.budget_projects.get(title="Retiré")
    dalles = call.budget_projects.get(title="Dalles")
    budget_call_amend(
        proposal=call,
        by=residents[0],
        title=call.title,
        budget_cents=BUDGET,
        projects=[
            ProjectFields(
                title="Dalles",
                cost_cents=10_000,
                recipient=providers[1].identity.did,  # the recipient changes
                public_id=dalles.public_id,
            )
        ],
        remove=[withdrawn.public_id],
    )
    call = open_vote(call)
    election = BudgetElection(
        city, call, list(call.budget_projects.order_by("position")), residents, providers, mayor
    )
    for member, letters in [
        (residents[0], "B"),  # changed below: the last ballot counts
        (residents[0], "AC"),
        (residents[1], "AD"),
        (residents[2], "BC"),
        (residents[3], ""),
        (providers[0], "BC"),
        (providers[1], "BD"),
        (mayor, "AC"),
    ]:
        budget_vote_cast(proposal=call, member=member, project_ids=picks(election, letters))
    return election


@pytest.fixture
def budget_closed(budget_election) -> BudgetElection:
    budget_election.call = close(budget_election.call)
    chain_seal(chain=budget_election.city.chain)
    return budget_election


def ranking_rows(stdout: str) -> list[list[str]]:
    """The rows of the printed ranking table (the lines after its header)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rank", "project"])
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_a_budget_retally_from_the_export_prints_the_numbers_of_the_page_and_the_api(
    budget_closed, tmp_path, client
):
    call = budget_closed.call
    path = export(budget_closed.city, tmp_path)
    result = retally(path, call.public_id)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("MATCHES the recorded tally (index ")

    panel = budget_panel(call, ballot=None)  # what the results page shows
    api = client.get(  # what the API answers
        f"/api/v1/governance/cities/{budget_closed.city.slug}/proposals/{call.public_id}/results"
    ).json()
    printed = ranking_rows(result.stdout)
    # rank, project, cost, municipality, providers, residents, fraction, percent, funded
    assert [row[:3] for row in printed] == [
        [str(row.rank), row.project.public_id, str(row.project.cost_cents)] for row in panel.ranking
    ]
    assert [row[6:8] for row in printed] == [
        [row.weighted_support, f"{row.weighted_support_percent}%"] for row in panel.ranking
    ]
    assert [row[8] == "yes" for row in printed] == [row.funded for row in panel.ranking]
    assert [(r["project"], r["weighted_support"], r["funded"]) for r in api["ranking"]] == [
        (row[1], row[6], row[8] == "yes") for row in printed
    ]
    a, b, c, d = (p.public_id for p in budget_closed.projects)
    assert [row[1] for row in printed] == [c, a, b, d]
    assert [row[6:9] for row in printed] == [
        ["13/20", "65.00%", "yes"],
        ["1/2", "50.00%", "yes"],
        ["2/5", "40.00%", "no"],  # "no (does not fit)": split on spaces
        ["1/4", "25.00%", "yes"],
    ]
    assert printed[0][3:6] == ["1", "1", "2"]  # C: municipality, providers, residents
    assert (
        f"weighted support of {c}: (30 * 1/1 + 30 * 1/2 + 40 * 2/4) / (30 + 30 + 40)"
        " = 65 / 100 = 13/20 = 65.00%"
    ) in result.stdout
    assert f"{c}, {a}, {d}; 100000 of 100000 cents" in result.stdout
    assert api["funded"] == [c, a, d] and panel.funded.cents == 100_000
    assert "participatory budget: 100000 cents (1000.00 EUR), 4 projects frozen" in result.stdout
    assert "ballots: 7 counted (the last of each voter), 1 replaced by a later ballot" in (
        result.stdout
    )
    assert "outcome: ACCEPTED (accepted when at least one project is funded)" in result.stdout


def test_the_in_process_budget_recount_equals_the_recorded_tally(budget_closed, tmp_path):
    bundle = load(export(budget_closed.city, tmp_path))
    result = recount(bundle, budget_closed.call.public_id)
    assert result.tally == budget_closed.call.tally
    assert result.matches is True
    assert result.budget.budget_cents == BUDGET
    assert result.budget.voters == {"residents": 4, "providers": 2, "municipality": 1}
    # the frozen projects: the withdrawn one is gone, the changed recipient is the new one
    dalles = budget_closed.projects[3]
    frozen = {p["project"]: p for p in result.budget.projects}
    assert set(frozen) == {p.public_id for p in budget_closed.projects}
    assert frozen[dalles.public_id]["recipient"] == budget_closed.providers[1].identity.did


@pytest.mark.parametrize(
    "selection",
    [
        ["unknown"],  # not a project of the call
        "AB",  # 110,000 > 100,000
        "unsorted",  # not in the order the server records
        "CC",  # twice the same project
        "not-a-list",
    ],
)
def test_a_budget_ballot_the_server_would_refuse_is_ignored(budget_election, tmp_path, selection):
    """Signed but not a valid knapsack ballot (forged with ledger_append): the re-count ignores
    it, and the recorded tally (which never saw it) still matches."""
    election = budget_election
    if selection == "unsorted":
        selection = sorted(picks(election, "AC"), reverse=True)
    elif selection in ("AB", "CC"):
        selection = picks(election, selection)
    ledger_append(
        chain=election.city.chain,
        actor=election.residents[3].identity,
        kind="governance.vote.cast",
        payload={
            "proposal": election.call.public_id,
            "college": "residents",
            "selection": selection,
        },
    )
    call = close(election.call)
    result = recount(load(export(election.city, tmp_path)), call.public_id)
    assert result.ignored == 1
    assert result.tally == call.tally and result.matches
    assert "1 ignored (not in the electorate, not their college, or not projects of the call" in (
        report(result)
    )


def test_a_recorded_funded_list_the_ballots_do_not_give_is_a_mismatch(budget_election, tmp_path):
    """A server that signed a budget tally funding B instead of D is caught."""
    election = budget_election
    call = Proposal.objects.get(pk=election.call.pk)
    forged = copy.deepcopy(budget_tally(call))
    a, b, c, d = (p.public_id for p in election.projects)
    forged["funded"] = [c, a, b]
    ledger_append(
        chain=election.city.chain,
        actor=election.city.identity,
        kind="governance.proposal.close",
        payload={"proposal": call.public_id, "outcome": "accepted", "tally": forged},
    )
    result = retally(export(election.city, tmp_path), call.public_id)
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        f"  tally.funded: recorded {json.dumps([c, a, b])}, recomputed {json.dumps([c, a, d])}"
    )


def test_frozen_projects_the_project_transactions_do_not_give_are_a_mismatch(
    budget_closed, tmp_path
):
    bundle = load(export(budget_closed.city, tmp_path))
    pid = budget_closed.call.public_id

    def cheaper(payload):
        payload["budget"]["projects"][0]["cost_cents"] = 1

    def extra(payload):
        payload["budget"]["projects"].append(
            {"project": "x", "cost_cents": 1, "position": 9, "recipient": "did:key:z"}
        )

    with pytest.raises(Mismatch, match="not as its last project transaction recorded"):
        recount(mutate(bundle, "governance.proposal.open", cheaper), pid)
    with pytest.raises(Mismatch, match="are not those the project transactions"):
        recount(mutate(bundle, "governance.proposal.open", extra), pid)
    with pytest.raises(RetallyError, match="froze no budget"):
        recount(mutate(bundle, "governance.proposal.open", lambda p: p.pop("budget")), pid)

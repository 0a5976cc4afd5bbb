"""Re-count a vote from a ledger export alone: `python -m governance.retally BUNDLE PROPOSAL_ID`.

Runs with the standard library and `cryptography` only: no Django, no database. It

1. verifies the bundle (`ledger.verify_bundle`): every signature, hash, root and link;
2. finds the `governance.proposal.open` transaction of the proposal and checks that the rules
   it froze are the rules adopted (`governance.rules.adopt`) under that version;
3. rebuilds the electorate from the membership transactions before the open one (approved and
   appointed members, minus revoked ones) and checks its digest and sizes against the open
   transaction;
4. takes the `governance.vote.cast` transactions of the proposal between the open and the
   close, keeps the last ballot of each voter, ignores (and counts) ballots of DIDs outside
   the electorate or naming another college than their own;
5. computes the tally with the server's own arithmetic (`governance.tally`), prints it per
   college, and compares it with the tally the close transaction recorded.

A participatory budget (a `fund_project` call whose open transaction froze a `budget`: the
amount and each project's id, cost, position and recipient) is re-counted the same way: the
frozen projects must be those the `governance.budget.project.*` transactions before the open
left; a ballot's `selection` must be distinct projects of the call within the budget (or it
is ignored); projects are ranked by college-weighted support and funded in order while the
budget lasts (`governance.tally.compute_budget_tally`), and the ranking, each project's
weighted support and the funded list are printed and compared with the recorded tally.

Exit status: 0 when the recomputed tally matches the recorded one (or the vote is not closed
in this export); 1 when the bundle does not verify, the proposal is not in it, or anything
recomputed differs from what the ledger recorded ("MISMATCH ...").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from ledger.canonical import jcs_stdlib
from ledger.verification import VerificationFailed
from ledger.verify_bundle import verify_bundle

from .tally import CHOICES, compute_budget_tally, compute_tally, electorate_digest

KIND_RULES_ADOPT = "governance.rules.adopt"
KIND_OPEN = "governance.proposal.open"
KIND_CLOSE = "governance.proposal.close"
KIND_VOTE = "governance.vote.cast"
KINDS_JOIN = ("governance.membership.approve", "governance.membership.appoint")
KIND_LEAVE = "governance.membership.revoke"
KIND_PROJECT_ADD = "governance.budget.project.add"
KIND_PROJECT_AMEND = "governance.budget.project.amend"
KIND_PROJECT_REMOVE = "governance.budget.project.remove"
KINDS_PROJECT = (KIND_PROJECT_ADD, KIND_PROJECT_AMEND, KIND_PROJECT_REMOVE)


class RetallyError(Exception):
    """The export cannot give this proposal's tally (absent or malformed transactions)."""


class Mismatch(RetallyError):
    """Something recomputed from the export differs from what the ledger recorded."""


@dataclass(frozen=True)
class BudgetCount:
    """What a participatory budget's re-count adds: the frozen call and its ballots."""

    budget_cents: int
    projects: list[dict]  # as frozen at the open: project, cost_cents, position, recipient
    voters: dict[str, int]  # college -> ballots counted
    supporters: dict[str, dict[str, int]]  # project -> college -> ballots that picked it


@dataclass(frozen=True)
class Retally:
    """A vote re-counted from the transactions of one chain."""

    chain: str
    proposal: str
    open_index: int
    close_index: int | None
    rules_version: int
    rules: dict
    electorate: dict[str, str]  # voter DID -> college, as the vote opened
    electorate_sizes: dict[str, int]
    electorate_digest: str
    counts: dict[str, dict[str, int]]
    counted: int  # ballots counted: the last one of each voter
    superseded: int  # earlier ballots of a voter who voted again
    ignored: int  # ballots of DIDs outside the electorate, or naming another college
    tally: dict
    recorded_tally: dict | None  # what the close transaction recorded, if the export has it
    recorded_outcome: str | None
    budget: BudgetCount | None = None  # a participatory budget (its `counts` stay empty)

    @property
    def matches(self) -> bool | None:
        """None while the export holds no close of this vote."""
        if self.close_index is None:
            return None
        return not differences(self.recorded_tally, self.tally) and (
            self.recorded_outcome == outcome(self.tally)
        )


def outcome(tally: dict) -> str:
    return "accepted" if tally["accepted"] else "rejected"


def _payload(tx: dict) -> dict:
    payload = tx.get("payload")
    return payload if isinstance(payload, dict) else {}


def _sha256_jcs(value) -> str:
    return hashlib.sha256(jcs_stdlib(value)).hexdigest()


def recount(bundle: dict, proposal_id: str) -> Retally:
    """Re-count `proposal_id` from a bundle the caller has verified (`verify_bundle`).

    Raises RetallyError when the export lacks what a re-count needs, Mismatch when the rules or
    the electorate it rebuilds differ from what the open transaction recorded. A recomputed
    tally that differs from the recorded one is not raised: see `Retally.matches`.
    """
    transactions = bundle.get("transactions", [])
    opens = [
        tx
        for tx in transactions
        if tx.get("kind") == KIND_OPEN and _payload(tx).get("proposal") == proposal_id
    ]
    if not opens:
        raise RetallyError(f"no {KIND_OPEN} transaction for proposal {proposal_id}")
    if len(opens) > 1:
        indices = ", ".join(str(tx["index"]) for tx in opens)
        raise Mismatch(f"proposal {proposal_id} was opened more than once (indices {indices})")
    opened = opens[0]
    open_index = opened["index"]
    frozen = _payload(opened)
    try:
        rules = frozen["rules"]
        version = frozen["rules_version"]
        recorded_digest = frozen["electorate"]
        recorded_sizes = frozen["electorate_sizes"]
    except KeyError as error:
        raise RetallyError(f"the open transaction (index {open_index}) lacks {error}") from None

    _check_rules(transactions[:open_index], rules, version, open_index)
    electorate = _electorate_before(transactions[:open_index])
    digest = electorate_digest((college, did) for did, college in electorate.items())
    if digest != recorded_digest:
        raise Mismatch(
            f"electorate: the membership transactions before index {open_index} give digest "
            f"{digest} ({len(electorate)} members), the open transaction recorded "
            f"{recorded_digest}"
        )
    sizes = dict(Counter(electorate.values()))
    if sizes != recorded_sizes:
        raise Mismatch(
            f"electorate sizes: rebuilt {_sizes_text(sizes)}, "
            f"recorded {_sizes_text(recorded_sizes)}"
        )

    close = next(
        (
            tx
            for tx in transactions[open_index + 1 :]
            if tx.get("kind") == KIND_CLOSE and _payload(tx).get("proposal") == proposal_id
        ),
        None,
    )
    close_index = close["index"] if close is not None else len(transactions)
    call = _budget_call(transactions[:open_index], frozen, proposal_id, open_index)
    costs = (
        {project["project"]: project["cost_cents"] for project in call["projects"]} if call else {}
    )

    def valid(payload: dict) -> bool:
        if call is None:
            return payload.get("choice") in CHOICES
        selection = payload.get("selection")
        return (
            isinstance(selection, list)
            and all(isinstance(pid, str) and pid in costs for pid in selection)
            and selection == sorted(set(selection))
            and sum(costs[pid] for pid in selection) <= call["budget_cents"]
        )

    last: dict[str, tuple[str, dict]] = {}
    superseded = ignored = 0
    for tx in transactions[open_index + 1 : close_index]:
        payload = _payload(tx)
        if tx.get("kind") != KIND_VOTE or payload.get("proposal") != proposal_id:
            continue
        voter, college = tx.get("actor"), payload.get("college")
        if electorate.get(voter) != college or not valid(payload):
            ignored += 1
            continue
        if voter in last:
            superseded += 1
        last[voter] = (college, payload)
    counts: dict[str, dict[str, int]] = {}
    budget = None
    if call is None:
        for college, payload in last.values():
            per_college = counts.setdefault(college, {})
            per_college[payload["choice"]] = per_college.get(payload["choice"], 0) + 1
        tally = compute_tally(rules=rules, electorate=sizes, counts=counts)
    else:
        voters: dict[str, int] = {}
        supporters: dict[str, dict[str, int]] = {pid: {} for pid in costs}
        for college, payload in last.values():
            voters[college] = voters.get(college, 0) + 1
            for pid in payload["selection"]:
                supporters[pid][college] = supporters[pid].get(college, 0) + 1
        budget = BudgetCount(
            budget_cents=call["budget_cents"],
            projects=call["projects"],
            voters=voters,
            supporters=supporters,
        )
        tally = compute_budget_tally(
            rules=rules,
            electorate=sizes,
            voters=voters,
            supporters=supporters,
            projects=[
                {"id": p["project"], "cost_cents": p["cost_cents"], "position": p["position"]}
                for p in call["projects"]
            ],
            budget_cents=call["budget_cents"],
        )
    recorded = _payload(close) if close is not None else {}
    return Retally(
        chain=bundle.get("chain", {}).get("slug", "?"),
        proposal=proposal_id,
        open_index=open_index,
        close_index=close["index"] if close is not None else None,
        rules_version=version,
        rules=rules,
        electorate=electorate,
        electorate_sizes=sizes,
        electorate_digest=digest,
        counts=counts,
        counted=len(last),
        superseded=superseded,
        ignored=ignored,
        tally=tally,
        recorded_tally=recorded.get("tally") if close is not None else None,
        recorded_outcome=recorded.get("outcome") if close is not None else None,
        budget=budget,
    )


def _budget_call(before: list[dict], frozen: dict, proposal_id: str, open_index: int):
    """The budget and projects a budget call's open transaction froze (None for a yes/no
    vote), checked against the project transactions before it: the same projects, each with
    the cost and recipient its last add or amend recorded."""
    history: dict[str, dict] = {}
    for tx in before:
        payload = _payload(tx)
        if tx.get("kind") not in KINDS_PROJECT or payload.get("proposal") != proposal_id:
            continue
        if tx["kind"] == KIND_PROJECT_REMOVE:
            history.pop(payload.get("project"), None)
        else:
            history[payload.get("project")] = payload
    call = frozen.get("budget")
    if call is None:
        if history:
            raise RetallyError(
                f"proposal {proposal_id} has budget projects but its open transaction (index "
                f"{open_index}) froze no budget: it was opened before budgets were frozen on "
                "the ledger and cannot be re-counted from the export"
            )
        return None
    try:
        budget_cents = call["budget_cents"]
        projects = call["projects"]
        frozen_projects = {
            p["project"]: (p["cost_cents"], p["position"], p["recipient"]) for p in projects
        }
    except (KeyError, TypeError) as error:
        raise RetallyError(f"the budget frozen at index {open_index} lacks {error}") from None
    if type(budget_cents) is not int or any(
        type(cost) is not int or type(position) is not int
        for cost, position, _recipient in frozen_projects.values()
    ):
        raise RetallyError(f"the budget frozen at index {open_index} is not in integer cents")
    if len(frozen_projects) != len(projects):
        raise Mismatch(f"the budget frozen at index {open_index} lists a project twice")
    if set(frozen_projects) != set(history):
        raise Mismatch(
            f"the projects frozen at index {open_index} ({len(frozen_projects)}) are not those "
            f"the project transactions before it left ({len(history)})"
        )
    for pid, (cost, _position, recipient) in sorted(frozen_projects.items()):
        if (history[pid].get("cost_cents"), history[pid].get("recipient")) != (cost, recipient):
            raise Mismatch(
                f"project {pid}: frozen at index {open_index} with cost {cost} and recipient "
                f"{recipient}, not as its last project transaction recorded"
            )
    return {"budget_cents": budget_cents, "projects": projects}


def _check_rules(before: list[dict], rules: dict, version, open_index: int) -> None:
    """The rules frozen with the vote are those adopted under their version before it."""
    adopted = [
        tx
        for tx in before
        if tx.get("kind") == KIND_RULES_ADOPT and _payload(tx).get("version") == version
    ]
    if not adopted:
        raise Mismatch(f"rules version {version} was never adopted before index {open_index}")
    payload = _payload(adopted[-1])
    if jcs_stdlib(payload.get("rules")) != jcs_stdlib(rules):
        raise Mismatch(
            f"the rules frozen at index {open_index} are not rules version {version} "
            f"as adopted at index {adopted[-1]['index']}"
        )
    if payload.get("digest") != _sha256_jcs(rules):
        raise Mismatch(f"the digest of rules version {version} does not match its rules")


def _electorate_before(before: list[dict]) -> dict[str, str]:
    """Voter DID -> college: members approved or appointed, minus those revoked."""
    members: dict[str, tuple[str, str]] = {}  # membership public id -> (DID, college)
    for tx in before:
        kind = tx.get("kind")
        payload = _payload(tx)
        if kind in KINDS_JOIN:
            try:
                members[payload["membership"]] = (payload["member"], payload["college"])
            except KeyError as error:
                raise RetallyError(f"transaction {tx['index']} lacks {error}") from None
        elif kind == KIND_LEAVE:
            members.pop(payload.get("membership"), None)
    return {did: college for did, college in members.values()}


def _sizes_text(sizes: dict[str, int]) -> str:
    return ", ".join(f"{college} {n}" for college, n in sorted(sizes.items())) or "none"


def differences(recorded, recomputed, path: str = "tally") -> list[str]:
    """Where two tallies differ, as "path: recorded X, recomputed Y" lines (stable order)."""
    if isinstance(recorded, dict) and isinstance(recomputed, dict):
        found = []
        for key in sorted(set(recorded) | set(recomputed)):
            found += differences(recorded.get(key), recomputed.get(key), f"{path}.{key}")
        return found
    if recorded == recomputed and type(recorded) is type(recomputed):
        return []
    return [f"{path}: recorded {json.dumps(recorded)}, recomputed {json.dumps(recomputed)}"]


HEADER = (
    "electorate",
    "yes",
    "no",
    "abstain",
    "voted",
    "turnout",
    "quorum",
    "met",
    "weight",
    "support",
    "counts",
)


def report(result: Retally) -> str:
    """The arithmetic of the re-count, in a stable text form."""
    ignored_why = (
        "not in the electorate, not their college, or not projects of the call within its budget"
        if result.budget is not None
        else "not in the electorate or not their college"
    )
    lines = [
        f"proposal {result.proposal} on chain {result.chain}",
        f"opened at index {result.open_index} under rules version {result.rules_version}; "
        + (
            f"closed at index {result.close_index}"
            if result.close_index is not None
            else "not closed in this export"
        ),
        f"electorate: {len(result.electorate)} members ({_sizes_text(result.electorate_sizes)}),"
        f" digest {result.electorate_digest} matches the open transaction",
        f"ballots: {result.counted} counted (the last of each voter), "
        f"{result.superseded} replaced by a later ballot, {result.ignored} ignored "
        f"({ignored_why})",
        "",
    ]
    if result.budget is not None:
        lines += _budget_report(result.tally, result.budget)
    else:
        lines += _yes_no_report(result.tally)
    return "\n".join(lines)


def _table(rows: list[tuple[str, ...]], left: tuple[int, ...] = (0,)) -> list[str]:
    """Columns of text: those in `left` left-aligned, the others (numbers) right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(widths[i]) if i in left else cell.rjust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def _yes_no_report(tally: dict) -> list[str]:
    rows = [("college", *HEADER)]
    colleges = sorted(tally["colleges"].items())  # JSON key order may not survive storage
    for slug, college in colleges:
        rows.append(
            (
                slug,
                str(college["electorate"]),
                str(college["yes"]),
                str(college["no"]),
                str(college["abstain"]),
                str(college["voted"]),
                f"{college['turnout_percent']}%",
                f"{college['quorum_percent']}%",
                "yes" if college["quorum_met"] else "no",
                str(college["weight"]),
                f"{college['support_percent']}%",
                "yes" if college["counts"] else "no",
            )
        )
    lines = [*_table(rows), ""]
    terms = [
        (college["weight"], college["yes"], college["yes"] + college["no"])
        for _slug, college in colleges
        if college["counts"]
    ]
    if terms:
        weighted = sum((Fraction(w * yes, n) for w, yes, n in terms), Fraction(0))
        lines.append(
            "weighted result: ("
            + " + ".join(f"{w} * {yes}/{n}" for w, yes, n in terms)
            + ") / ("
            + " + ".join(str(w) for w, _, _ in terms)
            + f") = {_sum_text(weighted)} / {tally['counting_weight']}"
            + f" = {tally['weighted_result']} = {tally['weighted_result_percent']}%"
        )
    else:
        lines.append("weighted result: no college counts (quorum not met or no yes/no ballot)")
    lines.append(
        f"outcome: {outcome(tally).upper()} "
        f"(accepted when at least one college counts and the result is above "
        f"{tally['approval_threshold_percent']}%)"
    )
    return lines


BUDGET_HEADER = ("electorate", "voted", "turnout", "quorum", "met", "weight", "counts")


def _euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d} EUR"


def _budget_report(tally: dict, budget: BudgetCount) -> list[str]:
    lines = [
        f"participatory budget: {tally['budget_cents']} cents ({_euros(tally['budget_cents'])}),"
        f" {len(budget.projects)} projects frozen when the vote opened",
        "",
    ]
    colleges = sorted(tally["colleges"].items())  # JSON key order may not survive storage
    rows = [("college", *BUDGET_HEADER)]
    for slug, college in colleges:
        rows.append(
            (
                slug,
                str(college["electorate"]),
                str(college["voted"]),
                f"{college['turnout_percent']}%",
                f"{college['quorum_percent']}%",
                "yes" if college["quorum_met"] else "no",
                str(college["weight"]),
                "yes" if college["counts"] else "no",
            )
        )
    lines += [*_table(rows), ""]
    slugs = [slug for slug, _college in colleges]
    rows = [("rank", "project", "cost_cents", *slugs, "weighted support", "percent", "funded")]
    for row in tally["ranking"]:
        if row["funded"]:
            funded = "yes"
        elif Fraction(row["weighted_support"]) == 0:
            funded = "no (no support)"
        else:
            funded = "no (does not fit)"
        rows.append(
            (
                str(row["rank"]),
                row["project"],
                str(row["cost_cents"]),
                *(str(row["supporters"].get(slug, 0)) for slug in slugs),
                row["weighted_support"],
                f"{row['weighted_support_percent']}%",
                funded,
            )
        )
    lines += [*_table(rows, left=(1, len(rows[0]) - 1)), ""]
    counting = [
        (slug, college["weight"], college["voted"])
        for slug, college in colleges
        if college["counts"]
    ]
    if not counting:
        lines.append("weighted support: no college counts (quorum not met or no ballot)")
    for row in tally["ranking"] if counting else []:
        terms = [(w, row["supporters"].get(slug, 0), voted) for slug, w, voted in counting]
        total = sum((Fraction(w * picked, voted) for w, picked, voted in terms), Fraction(0))
        lines.append(
            f"weighted support of {row['project']}: ("
            + " + ".join(f"{w} * {picked}/{voted}" for w, picked, voted in terms)
            + ") / ("
            + " + ".join(str(w) for w, _, _ in terms)
            + f") = {_sum_text(total)} / {tally['counting_weight']}"
            + f" = {row['weighted_support']} = {row['weighted_support_percent']}%"
        )
    lines += [
        "funded in rank order while the budget lasts (ties: cheaper first, then position): "
        + (", ".join(tally["funded"]) or "none")
        + f"; {tally['funded_cents']} of {tally['budget_cents']} cents",
        f"outcome: {outcome(tally).upper()} (accepted when at least one project is funded)",
    ]
    return lines


def _positionals_last(argv: list[str]) -> list[str]:
    """Public ids may begin with "-" (URL-safe base64): pass every argument that is not one
    of our options as a positional, after "--", so argparse never takes an id for an option."""
    options: list[str] = []
    positionals: list[str] = []
    items = iter(argv)
    for arg in items:
        if arg in ("-h", "--help") or arg.startswith("--validator="):
            options.append(arg)
        elif arg == "--validator":
            options += [arg, next(items, "")]
        elif arg == "--":
            positionals.extend(items)
        else:
            positionals.append(arg)
    return [*options, "--", *positionals]


def _sum_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"({value.numerator}/{value.denominator})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m governance.retally",
        description="Re-count a vote from a ledger export, with no Django and no database.",
    )
    parser.add_argument("bundle", help="a bundle written by `manage.py ledger_export`")
    parser.add_argument("proposal", help="the public id of the proposal")
    parser.add_argument(
        "--validator",
        action="append",
        metavar="DID",
        help="a validator DID you trust (repeatable); default: the bundle's own list",
    )
    args = parser.parse_args(_positionals_last(sys.argv[1:] if argv is None else argv))
    try:
        with open(args.bundle, encoding="utf-8") as handle:
            bundle = json.load(handle)
        verify_bundle(bundle, trusted=args.validator)
    except VerificationFailed as error:
        print(f"FAILED the bundle does not verify: {error}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"FAILED unreadable bundle: {error!r}", file=sys.stderr)
        return 1
    try:
        result = recount(bundle, args.proposal)
    except Mismatch as error:
        print(f"MISMATCH {error}")
        return 1
    except RetallyError as error:
        print(f"FAILED {error}", file=sys.stderr)
        return 1
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        print(f"FAILED malformed governance transaction: {error!r}", file=sys.stderr)
        return 1
    print(report(result))
    if result.close_index is None:
        print("not closed yet: no recorded tally to compare with")
        return 0
    if result.matches:
        print(f"MATCHES the recorded tally (index {result.close_index})")
        return 0
    found = differences(result.recorded_tally, result.tally)
    if result.recorded_outcome != outcome(result.tally):
        found.append(
            f"outcome: recorded {json.dumps(result.recorded_outcome)}, "
            f"recomputed {json.dumps(outcome(result.tally))}"
        )
    print(f"MISMATCH the tally recorded at index {result.close_index} differs:")
    for line in found:
        print(f"  {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main())

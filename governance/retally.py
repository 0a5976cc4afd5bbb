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

from .tally import CHOICES, compute_tally, electorate_digest

KIND_RULES_ADOPT = "governance.rules.adopt"
KIND_OPEN = "governance.proposal.open"
KIND_CLOSE = "governance.proposal.close"
KIND_VOTE = "governance.vote.cast"
KINDS_JOIN = ("governance.membership.approve", "governance.membership.appoint")
KIND_LEAVE = "governance.membership.revoke"


class RetallyError(Exception):
    """The export cannot give this proposal's tally (absent or malformed transactions)."""


class Mismatch(RetallyError):
    """Something recomputed from the export differs from what the ledger recorded."""


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
    last: dict[str, tuple[str, str]] = {}
    superseded = ignored = 0
    for tx in transactions[open_index + 1 : close_index]:
        payload = _payload(tx)
        if tx.get("kind") != KIND_VOTE or payload.get("proposal") != proposal_id:
            continue
        voter, college, choice = tx.get("actor"), payload.get("college"), payload.get("choice")
        if electorate.get(voter) != college or choice not in CHOICES:
            ignored += 1
            continue
        if voter in last:
            superseded += 1
        last[voter] = (college, choice)
    counts: dict[str, dict[str, int]] = {}
    for college, choice in last.values():
        per_college = counts.setdefault(college, {})
        per_college[choice] = per_college.get(choice, 0) + 1

    tally = compute_tally(rules=rules, electorate=sizes, counts=counts)
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
    )


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
    tally = result.tally
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
        "(not in the electorate or not their college)",
        "",
    ]
    width = max([len("college"), *(len(slug) for slug in tally["colleges"])])
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
    widths = [width] + [max(len(row[i]) for row in rows) for i in range(1, len(HEADER) + 1)]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(widths[i]) for i, cell in enumerate(row[1:], start=1)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
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
    return "\n".join(lines)


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

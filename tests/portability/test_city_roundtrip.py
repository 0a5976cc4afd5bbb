"""A city leaves: `city_export` writes it out, `city_import` builds it into an empty database,
and the imported city shows the same proposals, results, balances, ledger and checkpoint."""

from __future__ import annotations

import json

import pytest
from django.core.management.base import CommandError

from governance.models import Ballot, City, Membership, Proposal
from governance.selectors import receipt_of
from governance.services import vote_cast, vote_payload
from identity.errors import NoCustodialKey
from identity.models import Custody, Identity, User
from ledger.didkey import did_from_public_key
from ledger.integrity import verify_chain
from ledger.models import Chain, MerkleNode
from ledger.receipt_check import receipt_check
from ledger.services import chain_seal, ledger_append_signed, transaction_prepare
from ledger.signing import platform_validator
from ledger.verify_bundle import main as verify_bundle_main
from smartb.portability import ImportRefused
from smartb.portability.services import city_export, city_import
from tests.conftest import require_postgres

from .helpers import (
    appstore_view,
    city_view,
    export_dir,
    rewrite_json,
    row_counts,
    run,
    wipe_database,
)


def export(city: City, tmp_path):
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)
    return directory


def ballot_receipts(city: City) -> list[dict]:
    ballots = Ballot.objects.filter(proposal__city=city).select_related("entry__chain")
    return [receipt_of(ballot) for ballot in ballots.order_by("pk")]


def roundtrip(city: City, tmp_path):
    before = city_view(city.slug)
    receipts = ballot_receipts(city)
    directory = export(city, tmp_path)
    wipe_database()
    assert not City.objects.exists() and not Chain.objects.exists()
    report = city_import(directory=directory)
    return before, receipts, directory, report


def test_the_imported_city_runs_the_services_it_deployed(city, tmp_path):
    before = appstore_view("bourg")
    roundtrip(city, tmp_path)

    after = appstore_view("bourg")
    for key in before:
        assert after[key] == before[key], key
    assert len(after["deployments"]) == 1 and after["deployments"][0][9] is True
    assert sorted(fee[0] for fee in after["fees"]) == ["deployment", "execution"]
    assert [verdict for _id, _kind, verdict, *_ in after["audits"]] == ["pass", "pass"]


def test_the_imported_city_shows_what_the_origin_showed(city, tmp_path):
    before, receipts, _directory, report = roundtrip(city, tmp_path)

    after = city_view("bourg")
    keys = ("city", "colleges", "members", "rules", "attestations", "treasury", "movements")
    for key in (*keys, "chain"):
        assert after[key] == before[key], key
    assert after["proposals"] == before["proposals"]
    assert len(after["attestations"]) == 1
    statuses = sorted(p["status"] for p in after["proposals"])
    assert statuses == ["draft", "executed", "executed", "executed", "executed", "open"]
    assert report.city == "bourg"
    assert report.transactions == before["chain"]["size"]
    assert report.checkpoint == before["chain"]["checkpoint"]


def test_receipts_issued_before_the_export_verify_against_the_imported_chain(city, tmp_path):
    _before, receipts, _directory, _report = roundtrip(city, tmp_path)

    assert len(receipts) > 10 and all(receipts)
    for receipt in receipts:
        checked = receipt_check(receipt)
        assert checked["holds"], checked["reason"]
        assert checked["recorded_here"]


def test_the_imported_chain_passes_ledger_verify_with_its_tiles(city, tmp_path):
    before_nodes = sorted(
        MerkleNode.objects.filter(chain=city.chain).values_list("level", "index", "hash")
    )
    roundtrip(city, tmp_path)

    chain = Chain.objects.get(slug="bourg")
    assert "OK bourg" in run("ledger_verify", "--chain", "bourg")
    assert verify_chain(chain).failure is None
    after_nodes = sorted(
        MerkleNode.objects.filter(chain=chain).values_list("level", "index", "hash")
    )
    assert after_nodes == before_nodes


def test_the_bundle_in_the_export_verifies_offline(city, tmp_path, capsys):
    directory = export(city, tmp_path)

    assert verify_bundle_main([str(directory / "ledger" / "bourg.json")]) == 0
    assert "OK bourg" in capsys.readouterr().out


def test_no_private_key_and_no_password_leaves(city, tmp_path):
    directory = export(city, tmp_path)

    text = "".join(path.read_text(encoding="utf-8") for path in directory.rglob("*.json"))
    assert "sealed_private_key" not in text
    assert "password" not in text
    assert "pbkdf2" not in text
    identity = json.loads((directory / "identity.json").read_text(encoding="utf-8"))
    assert {row["custody"] for row in identity["tables"]["identities"]} == {"custodial"}


def test_imported_identities_hold_their_public_key_only(city, tmp_path):
    roundtrip(city, tmp_path)

    identities = Identity.objects.all()
    assert identities.exists()
    assert set(identities.values_list("custody", flat=True)) == {Custody.SELF}
    assert not identities.filter(sealed_private_key__isnull=False).exists()
    for identity in identities:
        assert did_from_public_key(identity.public_key) == identity.did
    assert not any(user.has_usable_password() for user in User.objects.all())


def test_the_manifest_lists_every_file_with_its_digest_and_the_checkpoint(city, tmp_path):
    directory = export(city, tmp_path)

    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["city"] == "bourg"
    assert set(manifest["files"]) == {
        "ledger/bourg.json",
        "ledger.json",
        "identity.json",
        "governance.json",
        "data_billing.json",
        "impact.json",
        "marketplace.json",
        "scenarios.json",
    }
    assert [s["name"] for s in manifest["sections"]] == [
        "ledger",
        "identity",
        "governance",
        "data_billing",
        "impact",
        "marketplace",
        "scenarios",
    ]
    assert manifest["chain"]["checkpoint"] == city_view("bourg")["chain"]["checkpoint"]
    governance = json.loads((directory / "governance.json").read_text(encoding="utf-8"))
    rows = sum(len(table) for table in governance["tables"].values())
    assert manifest["files"]["governance.json"]["rows"] == rows


def test_the_network_transactions_about_the_city_leave_as_verified_evidence(city, tmp_path):
    directory = export(city, tmp_path)

    ledger = json.loads((directory / "ledger.json").read_text(encoding="utf-8"))
    kinds = {entry["kind"] for entry in ledger["tables"]["network"]}
    assert {"ledger.chain.create", "governance.city.create", "identity.did.register"} <= kinds
    assert all(entry["receipt"] for entry in ledger["tables"]["network"])


def test_two_exports_of_the_same_city_have_the_same_sections(city, tmp_path):
    first = export(city, tmp_path)
    second = tmp_path / "again"
    city_export(city=city, directory=second)

    for name in ("ledger/bourg.json", "identity.json", "governance.json", "marketplace.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_a_changed_file_is_refused_and_nothing_is_written(city, tmp_path):
    directory = export(city, tmp_path)
    wipe_database()

    def change_a_vote(data):
        ballot = data["tables"]["ballots"][0]
        ballot["choice"] = "no" if ballot["choice"] == "yes" else "yes"

    rewrite_json(directory, "governance.json", change_a_vote, fix_digest=False)
    counts = row_counts()
    with pytest.raises(ImportRefused, match="governance.json"):
        city_import(directory=directory)
    assert row_counts() == counts


def test_a_row_that_disagrees_with_the_ledger_is_refused(city, tmp_path):
    directory = export(city, tmp_path)
    wipe_database()

    def change_a_vote(data):
        for ballot in data["tables"]["ballots"]:
            if ballot["choice"] == "yes":
                ballot["choice"] = "no"
                return

    rewrite_json(directory, "governance.json", change_a_vote, fix_digest=True)
    counts = row_counts()
    with pytest.raises(ImportRefused, match="disagrees with ledger transaction"):
        city_import(directory=directory)
    assert row_counts() == counts


def test_a_tampered_ledger_transaction_is_refused(city, tmp_path):
    directory = export(city, tmp_path)
    wipe_database()

    def change_a_payload(data):
        for tx in data["transactions"]:
            if tx["kind"] == "governance.treasury.move":
                tx["payload"]["postings"][0]["amount_cents"] += 100
                return

    rewrite_json(directory, "ledger/bourg.json", change_a_payload, fix_digest=True)
    counts = row_counts()
    with pytest.raises(ImportRefused, match="does not verify"):
        city_import(directory=directory)
    assert row_counts() == counts


def test_a_ledger_sealed_by_a_validator_we_do_not_trust_is_refused(city, tmp_path):
    directory = export(city, tmp_path)
    wipe_database()
    stranger = did_from_public_key(bytes(range(32)))

    counts = row_counts()
    with pytest.raises(ImportRefused, match="--validator"):
        city_import(directory=directory, validators=[stranger])
    assert row_counts() == counts


def test_importing_twice_is_refused(city, tmp_path):
    _before, _receipts, directory, _report = roundtrip(city, tmp_path)

    counts = row_counts()
    with pytest.raises(ImportRefused, match="exists here already"):
        city_import(directory=directory)
    assert row_counts() == counts


def test_importing_over_the_origin_city_is_refused(city, tmp_path):
    directory = export(city, tmp_path)

    counts = row_counts()
    with pytest.raises(ImportRefused, match="exists here already"):
        city_import(directory=directory)
    assert row_counts() == counts


def test_a_failure_after_the_rows_are_written_rolls_everything_back(city, tmp_path, monkeypatch):
    directory = export(city, tmp_path)
    wipe_database()
    counts = row_counts()

    class Broken:
        transactions = blocks = 0
        failure = "block height 0: Merkle root does not match"

    monkeypatch.setattr("smartb.portability.services.verify_chain", lambda *a, **k: Broken())
    with pytest.raises(ImportRefused, match="does not verify"):
        city_import(directory=directory)
    assert row_counts() == counts


def test_an_export_never_overwrites_a_directory(city, tmp_path):
    directory = export_dir(tmp_path)
    directory.mkdir()
    (directory / "notes.txt").write_text("à garder", encoding="utf-8")

    with pytest.raises(CommandError, match="not empty"):
        run("city_export", "--city", "bourg", "-o", str(directory))
    assert [p.name for p in directory.iterdir()] == ["notes.txt"]


def test_the_commands_round_trip(city, tmp_path):
    directory = export_dir(tmp_path)
    before = city_view("bourg")

    out = run("city_export", "--city", "bourg", "-o", str(directory))
    assert "wrote" in out
    wipe_database()
    out = run("city_import", str(directory), "--validator", platform_validator().did)

    assert "imported bourg" in out
    assert before["chain"]["checkpoint"] in out
    assert "re-key" in out
    assert city_view("bourg")["proposals"] == before["proposals"]
    with pytest.raises(CommandError, match="exists here already"):
        run("city_import", str(directory))


def test_the_round_trip_holds_on_postgresql(city, tmp_path):
    require_postgres()
    before, receipts, _directory, _report = roundtrip(city, tmp_path)

    assert city_view("bourg") == before
    assert all(receipt_check(receipt)["holds"] for receipt in receipts)
    assert Proposal.objects.filter(city__slug="bourg").count() == 6
    assert appstore_view("bourg")["fees"]


def test_a_member_who_kept_their_key_votes_in_the_imported_city(city, tmp_path):
    debate = Proposal.objects.get(city=city, status="open")
    voter = (
        debate.electorate.select_related("membership__identity")
        .exclude(membership__ballots__proposal=debate)
        .first()
        .membership
    )
    private_key = voter.identity.private_key()  # exported from the profile before leaving
    roundtrip(city, tmp_path)

    member = Membership.objects.select_related("identity").get(public_id=voter.public_id)
    proposal = Proposal.objects.get(public_id=debate.public_id)
    payload = vote_payload(proposal=proposal, college_slug=member.college.slug, choice="yes")
    prepared = transaction_prepare(
        chain=proposal.city.chain,
        actor_did=member.identity.did,
        kind="governance.vote.cast",
        payload=payload,
    )
    signature = private_key.sign(prepared.signing_bytes)

    def append():
        return ledger_append_signed(
            chain=proposal.city.chain,
            actor_did=member.identity.did,
            kind="governance.vote.cast",
            payload=payload,
            created_at=prepared.created_at,
            signature=signature,
        )

    with pytest.raises(NoCustodialKey):  # the platform holds no private key of theirs
        vote_cast(proposal=proposal, member=member, choice="yes")
    ballot = vote_cast(proposal=proposal, member=member, choice="yes", append=append)
    chain_seal(chain=proposal.city.chain)

    assert ballot.entry.actor == member.identity.did
    assert receipt_check(receipt_of(ballot))["holds"]
    assert "OK bourg" in run("ledger_verify", "--chain", "bourg")

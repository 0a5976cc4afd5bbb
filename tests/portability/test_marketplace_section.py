"""The app store's section: the city's deployments, the service versions they run with their
providers and audits, fees and executions leave with the city; the rows signed on the
origin's network chain are checked against that evidence and anchored on the new one."""

from __future__ import annotations

import json

import pytest

from governance.models import City, Membership, Proposal
from governance.services import proposal_execute
from ledger.models import Transaction
from ledger.services import chain_seal
from ledger.signing import platform_validator
from marketplace.models import Audit, Deployment, Fee, Provider, Service, ServiceVersion
from marketplace.services import execution_record
from smartb.portability import ImportRefused
from smartb.portability.handover import KEY_FILE, city_key_open
from smartb.portability.services import city_export, city_import
from tests.factories import audited_version_make
from tests.governance.helpers import cast, close, draft, open_vote

from .helpers import export_dir, rewrite_json, row_counts, run, wipe_database

PASSPHRASE = "lavoir-du-centre-2026"
SIGNED_ROWS = (
    (Provider, "provider"),
    (Service, "service"),
    (ServiceVersion, "version"),
    (Audit, "audit"),
)


def origin_entries() -> dict[tuple[str, str], str]:
    return {
        (what, row.public_id): row.entry.tx_hash
        for model, what in SIGNED_ROWS
        for row in model.objects.select_related("entry")
    }


def test_network_rows_leave_as_evidence_and_are_anchored_on_the_new_network(city, tmp_path):
    before = origin_entries()
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)

    section = json.loads((directory / "marketplace.json").read_text(encoding="utf-8"))
    ledger = json.loads((directory / "ledger.json").read_text(encoding="utf-8"))
    evidence = {entry["tx_hash"]: entry for entry in ledger["tables"]["network"]}
    for table in ("providers", "services", "versions", "audits"):
        assert section["tables"][table]
        assert all(evidence[row["entry"]]["receipt"] for row in section["tables"][table])
    wipe_database()

    city_import(directory=directory)

    validator = platform_validator().did
    for model, what in SIGNED_ROWS:
        for row in model.objects.select_related("entry__chain"):
            assert row.entry.chain.slug == "network"
            assert row.entry.kind == f"marketplace.{what}.import"
            assert row.entry.actor == validator
            assert row.entry.payload == {
                what: row.public_id,
                "city": "bourg",
                "origin_tx": before[(what, row.public_id)],
            }
    assert Audit.objects.filter(task__isnull=True).count() == Audit.objects.count() == 2


def _refused_after(city, tmp_path, change, match: str) -> None:
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory)
    wipe_database()
    rewrite_json(directory, "marketplace.json", change, fix_digest=True)
    counts = row_counts()
    with pytest.raises(ImportRefused, match=match):
        city_import(directory=directory)
    assert row_counts() == counts


def test_an_audit_verdict_that_is_not_the_signed_one_is_refused(city, tmp_path):
    def fail_an_audit(data):
        audit = data["tables"]["audits"][0]
        audit["verdict"], audit["reason"] = "fail", "Chiffrement absent."

    _refused_after(city, tmp_path, fail_an_audit, "disagrees with the network transaction")


def test_a_changed_declaration_is_refused(city, tmp_path):
    def hide_a_recipient(data):
        data["tables"]["versions"][0]["recipients"] = []

    _refused_after(city, tmp_path, hide_a_recipient, "disagrees with the network transaction")


def test_a_fee_split_that_is_not_the_treasury_movement_is_refused(city, tmp_path):
    def move_a_cent(data):
        fee = data["tables"]["fees"][0]
        fee["operator_cents"] += 1
        fee["local_projects_cents"] -= 1

    _refused_after(city, tmp_path, move_a_cent, "disagrees with the treasury movement")


def test_a_deployment_the_ledger_did_not_decide_is_refused(city, tmp_path):
    def stop_it(data):
        data["tables"]["deployments"][0]["active"] = False

    _refused_after(city, tmp_path, stop_it, "disagrees with the city's ledger")


def test_an_upgrade_voted_before_the_export_executes_after_the_import(city, tmp_path):
    deployment = Deployment.objects.select_related("service").get(city=city)
    newer = audited_version_make(service=deployment.service, deployment_fee_cents=7_000)
    members = list(Membership.objects.filter(city=city, status="approved"))
    mayor = next(m for m in members if m.college.kind == "municipality")
    upgrade = open_vote(
        draft(mayor, "deploy_service", action="upgrade", service_version=newer.public_id)
    )
    cast(upgrade, [(member, "yes") for member in members])
    directory = export_dir(tmp_path)
    city_export(city=city, directory=directory, handover_passphrase=PASSPHRASE)
    wipe_database()
    city_import(
        directory=directory,
        city_key=city_key_open((directory / KEY_FILE).read_bytes(), passphrase=PASSPHRASE),
    )
    successor = City.objects.get(slug="bourg").identity.did
    start = Transaction.objects.filter(chain__slug="bourg").count()

    proposal = proposal_execute(proposal=close(Proposal.objects.get(public_id=upgrade.public_id)))
    deployment = Deployment.objects.get(public_id=deployment.public_id)
    execution = execution_record(deployment=deployment, reference="trajet-0002")

    assert proposal.status == "executed", proposal.failure_reason
    assert deployment.version.public_id == newer.public_id
    assert Fee.objects.get(proposal=proposal).amount_cents == 7_000
    assert execution.fee.amount_cents == newer.execution_fee_cents
    signed = Transaction.objects.filter(chain__slug="bourg", index__gte=start)
    city_kinds = {tx.kind for tx in signed if tx.actor == successor}
    assert {
        "governance.proposal.close",
        "marketplace.deployment.upgrade",
        "governance.treasury.move",
        "governance.proposal.execute",
    } <= city_kinds
    chain_seal(chain="bourg")
    assert "OK bourg" in run("ledger_verify", "--chain", "bourg")

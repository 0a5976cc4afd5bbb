"""Executing an accepted deploy_service proposal: the deployment, its fee and their ledger
transactions, or a failure with its reason and nothing half done."""

from governance.models import Movement
from governance.services import proposal_execute
from marketplace.models import Deployment, Fee
from marketplace.services import version_suspend
from tests.factories import audited_version_make
from tests.governance.helpers import balance, city_transactions

from .helpers import accept, decide, propose, snapshot


def test_acceptance_deploys_and_charges_the_deployment_fee(city, mayor, version):
    proposal = decide(mayor, version)
    assert proposal.status == "executed", proposal.failure_reason
    deployment = Deployment.objects.get(city=city, service=version.service)
    assert (deployment.version, deployment.active, deployment.proposal) == (
        version,
        True,
        proposal,
    )
    fee = Fee.objects.get(deployment=deployment)
    assert (fee.kind, fee.amount_cents) == ("deployment", 10_000)
    # 20 / 30 / 50 by default: the bank receives it all, each share is credited.
    assert (fee.operator_cents, fee.data_owners_cents, fee.local_projects_cents) == (
        2_000,
        3_000,
        5_000,
    )
    assert balance(city, "bank") == 10_000
    assert -balance(city, "operator-payable") == 2_000
    assert -balance(city, "data-owners-payable") == 3_000
    assert -balance(city, "fees") == 5_000
    assert fee.movement.proposal == proposal
    recorded = city_transactions(city, "marketplace.deployment.deploy").get()
    assert recorded.actor == city.identity.did
    assert recorded.payload == {
        "deployment": deployment.public_id,
        "proposal": proposal.public_id,
        "service": version.service.public_id,
        "service_version": version.public_id,
        "active": True,
        "fee_cents": 10_000,
        "movement": fee.movement.public_id,
    }
    execution = city_transactions(city, "governance.proposal.execute").get()
    assert execution.payload == {
        "proposal": proposal.public_id,
        "effect": "deployed",
        "deployment": deployment.public_id,
        "service_version": version.public_id,
        "fee_cents": 10_000,
    }


def test_execution_is_idempotent(city, mayor, version):
    proposal = decide(mayor, version)
    before = snapshot()
    assert proposal_execute(proposal=proposal).status == "executed"
    assert snapshot() == before


def test_a_free_version_deploys_without_a_movement(city, mayor, service, auditor):
    free = audited_version_make(service=service, auditor=auditor, deployment_fee_cents=0)
    decide(mayor, free)
    assert Deployment.objects.get(city=city).active
    assert not Fee.objects.exists() and not Movement.objects.exists()


def test_upgrade_then_undeploy_then_deploy_again(city, mayor, version, auditor):
    decide(mayor, version)
    newer = audited_version_make(
        service=version.service, auditor=auditor, deployment_fee_cents=4_000
    )
    upgraded = decide(mayor, newer, "upgrade")
    deployment = Deployment.objects.get(city=city)
    assert (deployment.version, deployment.proposal, deployment.active) == (newer, upgraded, True)
    assert balance(city, "bank") == 14_000
    decide(mayor, newer, "undeploy")
    deployment.refresh_from_db()
    assert not deployment.active and deployment.undeployed_at is not None
    assert balance(city, "bank") == 14_000  # undeploying is free
    decide(mayor, newer)
    deployment.refresh_from_db()
    assert deployment.active and deployment.undeployed_at is None
    assert Deployment.objects.filter(city=city).count() == 1
    kinds = list(
        city_transactions(city)
        .filter(kind__startswith="marketplace.deployment")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "marketplace.deployment.deploy",
        "marketplace.deployment.upgrade",
        "marketplace.deployment.undeploy",
        "marketplace.deployment.deploy",
    ]


def test_a_version_that_lost_its_audit_fails_with_nothing_half_done(city, mayor, version, operator):
    proposal = accept(propose(mayor, version), [mayor])
    version_suspend(version=version, by=operator, reason="Faille de sécurité signalée.")
    proposal = proposal_execute(proposal=proposal)
    assert proposal.status == "failed"
    assert "audits" in proposal.failure_reason
    assert not Deployment.objects.exists() and not Fee.objects.exists()
    assert not Movement.objects.exists()
    assert not city_transactions(city, "marketplace.deployment.deploy").exists()
    assert city_transactions(city, "governance.proposal.fail").get().payload == {
        "proposal": proposal.public_id,
        "reason": "effect_failed",
    }


def test_two_accepted_deployments_of_one_service_deploy_once(city, mayor, version):
    first = accept(propose(mayor, version), [mayor])
    second = accept(propose(mayor, version), [mayor])
    assert proposal_execute(proposal=first).status == "executed"
    failed = proposal_execute(proposal=second)
    assert failed.status == "failed"
    assert "already deployed" in failed.failure_reason
    assert Fee.objects.count() == 1
    assert balance(city, "bank") == 10_000


def test_the_split_follows_the_rules_in_force(city, mayor, version):
    from governance.rules import default_rules
    from tests.governance.helpers import adopt_rules

    rules = default_rules()
    rules["revenue_split_percent"] = {"operator": 10, "data_owners": 0, "local_projects": 90}
    adopt_rules(city, mayor, rules)
    decide(mayor, version)
    fee = Fee.objects.get()
    assert (fee.operator_cents, fee.data_owners_cents, fee.local_projects_cents) == (
        1_000,
        0,
        9_000,
    )
    # A share of zero posts nothing.
    assert sorted(fee.movement.postings.values_list("account__code", flat=True)) == [
        "bank",
        "fees",
        "operator-payable",
    ]


def test_the_treasury_reads_the_shares_owed_as_credit_positive(city, mayor, version):
    from governance.selectors import treasury_balances

    decide(mayor, version)
    balances = {b.code: b for b in treasury_balances(city).balances}
    assert balances["operator-payable"].kind == "liability"
    assert balances["operator-payable"].balance.cents == 2_000
    assert balances["data-owners-payable"].balance.cents == 3_000
    assert balances["fees"].balance.cents == 5_000
    assert treasury_balances(city).available.cents == 10_000

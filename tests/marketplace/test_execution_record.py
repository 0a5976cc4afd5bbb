import pytest

from governance.models import Movement
from identity.errors import NoCustodialKey
from identity.signed_actions import action_execute, action_prepare
from ledger.errors import BadSignature
from ledger.signing import platform_validator
from marketplace.actions import RecordExecution
from marketplace.errors import InvalidInput, NotAllowed, NotDeployed
from marketplace.models import ContractExecution, Deployment, Fee, Provider
from marketplace.services import execution_record
from tests.factories import audited_version_make, service_make
from tests.governance.helpers import balance, city_transactions
from tests.identity.support import ClientKey

from .helpers import decide, go_self_custody, writes_nothing


@pytest.fixture
def deployment(city, mayor, version):
    decide(mayor, version)
    return Deployment.objects.get(city=city, service=version.service)


def test_the_provider_records_an_execution_and_pays_its_fee(city, deployment):
    owner = deployment.service.provider.owner
    execution = execution_record(deployment=deployment, reference="run-0001", by=owner)
    entry = execution.entry
    assert (entry.chain_id, entry.kind, entry.actor) == (
        city.chain_id,
        "marketplace.execution.record",
        deployment.service.provider.identity.did,
    )
    assert entry.payload == {
        "deployment": deployment.public_id,
        "service_version": deployment.version.public_id,
        "reference": "run-0001",
        "fee_cents": 25,
    }
    fee = execution.fee
    assert (fee.kind, fee.amount_cents) == ("execution", 25)
    # 25 cents at 20 / 30 / 50: 5 / 7.5 / 12.5, the tie goes to data owners (fixed order).
    assert (fee.operator_cents, fee.data_owners_cents, fee.local_projects_cents) == (5, 8, 12)
    assert balance(city, "bank") == 10_000 + 25


def test_the_same_reference_is_charged_once(city, deployment):
    owner = deployment.service.provider.owner
    first = execution_record(deployment=deployment, reference="run-1", by=owner)
    with writes_nothing():
        again = execution_record(deployment=deployment, reference="run-1", by=owner)
    assert again == first
    execution_record(deployment=deployment, reference="run-2", by=owner)
    assert Fee.objects.filter(kind="execution").count() == 2
    assert balance(city, "bank") == 10_000 + 50


def test_the_platform_records_platform_run_actions(city, deployment):
    execution = execution_record(deployment=deployment, reference="cron-7")
    assert execution.entry.actor == platform_validator().did
    assert execution.recorded_by is None and execution.fee.amount_cents == 25


def test_only_the_provider_records_executions(deployment, resident, operator, staff):
    for someone in (resident.user, operator, staff):
        with writes_nothing(), pytest.raises(NotAllowed):
            execution_record(deployment=deployment, reference="x", by=someone)


def test_an_undeployed_service_records_nothing(city, mayor, deployment):
    decide(mayor, deployment.version, "undeploy")
    owner = deployment.service.provider.owner
    with writes_nothing(), pytest.raises(NotDeployed):
        execution_record(deployment=deployment, reference="late", by=owner)


@pytest.mark.parametrize("reference", ["", "a b", "x" * 65, "jean@example.org", 7])
def test_a_reference_is_an_identifier(deployment, reference):
    with writes_nothing(), pytest.raises(InvalidInput):
        execution_record(
            deployment=deployment, reference=reference, by=deployment.service.provider.owner
        )


def test_a_free_execution_is_recorded_without_a_movement(city, mayor, auditor, provider):
    free = audited_version_make(
        service=service_make(provider=provider, name="Agenda culturel", category="culture"),
        auditor=auditor,
        deployment_fee_cents=0,
        execution_fee_cents=0,
    )
    decide(mayor, free)
    deployment = Deployment.objects.get(service=free.service)
    execution = execution_record(deployment=deployment, reference="r", by=provider.owner)
    assert execution.fee is None and not Movement.objects.exists()


def test_a_self_custody_provider_signs_its_executions(city, deployment):
    provider = deployment.service.provider
    key = ClientKey.generate()
    # The provider moves to a key of its own (the operator updates the provider's DID).
    Provider.objects.filter(pk=provider.pk).update(identity=go_self_custody(provider.owner, key))
    deployment = Deployment.objects.get(pk=deployment.pk)
    owner = provider.owner
    action, data = RecordExecution(), {"deployment": deployment, "reference": "signed-1"}
    prepared = action_prepare(action, user=owner, data=data)
    with writes_nothing(), pytest.raises(BadSignature):
        action_execute(
            action,
            user=owner,
            data=data,
            created_at=prepared.created_at,
            signature=ClientKey.generate().sign(prepared.signing_bytes).hex(),
        )
    with writes_nothing(), pytest.raises(NoCustodialKey):
        action_execute(action, user=owner, data=data)
    execution = action_execute(
        action,
        user=owner,
        data=data,
        created_at=prepared.created_at,
        signature=key.sign(prepared.signing_bytes).hex(),
    )
    assert execution.entry.actor == key.did
    assert city_transactions(city, "marketplace.execution.record").get() == execution.entry
    assert ContractExecution.objects.get().fee.amount_cents == 25


def test_a_signed_transaction_must_be_this_execution(city, deployment):
    from ledger.services import ledger_append

    owner = deployment.service.provider.owner
    identity = deployment.service.provider.identity

    def wrong_append():
        return ledger_append(
            chain=city.chain,
            actor=identity,
            kind="marketplace.execution.record",
            payload={"deployment": deployment.public_id, "reference": "other"},
        )

    with writes_nothing(), pytest.raises(NotAllowed):
        execution_record(deployment=deployment, reference="r", by=owner, append=wrong_append)

"""The deploy_service kind, as governance drafts it: the app store validates its parameters."""

import pytest

from governance.services import proposal_amend, proposal_create
from marketplace.errors import AlreadyDeployed, InvalidInput, NotAudited, NotDeployed
from marketplace.services import audit_request
from tests.factories import audited_version_make, version_make

from .helpers import decide, propose, writes_nothing


def test_a_member_proposes_to_deploy_an_audited_version(city, mayor, version):
    proposal = propose(mayor, version)
    assert proposal.parameters == {"action": "deploy", "service_version": version.public_id}


def test_a_provider_member_may_propose_it_too(city, provider_member, version):
    assert propose(provider_member, version).kind == "deploy_service"


def test_the_first_form_of_governance_still_reads_as_a_deploy(city, mayor, version):
    proposal = proposal_create(
        author=mayor, kind="deploy_service", title="t", parameters={"service": version.public_id}
    )
    assert proposal.parameters == {"action": "deploy", "service_version": version.public_id}


def test_an_unaudited_version_cannot_be_proposed(city, mayor, service):
    draft = version_make(service=service)
    with writes_nothing(), pytest.raises(NotAudited):
        propose(mayor, draft)
    audit_request(version=draft, by=service.provider.owner)
    with writes_nothing(), pytest.raises(NotAudited):
        propose(mayor, draft)


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"action": "deploy", "service_version": "nope"},
        {"action": "deploy", "service_version": 12},
        {"action": "destroy", "service_version": "x"},
    ],
)
def test_parameters_name_an_action_and_a_version(city, mayor, version, parameters):
    with writes_nothing(), pytest.raises(InvalidInput):
        proposal_create(author=mayor, kind="deploy_service", title="t", parameters=parameters)


def test_deploying_what_is_deployed_or_undeploying_what_is_not_is_refused(city, mayor, version):
    with writes_nothing(), pytest.raises(NotDeployed):
        propose(mayor, version, "undeploy")
    with writes_nothing(), pytest.raises(NotDeployed):
        propose(mayor, version, "upgrade")
    decide(mayor, version)
    with writes_nothing(), pytest.raises(AlreadyDeployed):
        propose(mayor, version, "deploy")
    with writes_nothing(), pytest.raises(AlreadyDeployed):
        propose(mayor, version, "upgrade")
    assert propose(mayor, version, "undeploy").parameters["action"] == "undeploy"


def test_an_upgrade_names_another_audited_version(city, mayor, version, auditor):
    decide(mayor, version)
    newer = audited_version_make(service=version.service, auditor=auditor)
    assert propose(mayor, newer, "upgrade").parameters["service_version"] == newer.public_id


def test_a_deployment_elsewhere_does_not_count_here(city, other_city, operator, mayor, version):
    from tests.governance.helpers import appoint

    other_mayor = appoint(other_city, operator)
    decide(other_mayor, version)
    assert propose(mayor, version).parameters["action"] == "deploy"


def test_amending_a_draft_validates_again(city, mayor, version, service):
    proposal = propose(mayor, version)
    draft = version_make(service=service)
    with writes_nothing(), pytest.raises(NotAudited):
        proposal_amend(
            proposal=proposal,
            by=mayor,
            title="t",
            body="",
            parameters={"action": "deploy", "service_version": draft.public_id},
        )

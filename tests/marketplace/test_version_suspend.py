import pytest

from marketplace.errors import InvalidInput, NotAllowed, NotAudited, WrongState
from marketplace.models import Deployment, VersionStatus
from marketplace.selectors import app_store
from marketplace.services import version_suspend
from marketplace.services._common import sha256_text

from .helpers import decide, propose, writes_nothing


def test_the_operator_withdraws_an_audit(city, version, operator):
    suspended = version_suspend(version=version, by=operator, reason="Faille signalée.")
    assert suspended.status == VersionStatus.SUSPENDED
    entry = suspended.entry.chain.entries.get(kind="marketplace.version.suspend")
    assert entry.payload == {
        "version": version.public_id,
        "reason": sha256_text("Faille signalée."),
    }
    assert app_store(city=city) == []
    with writes_nothing(), pytest.raises(NotAudited):
        propose(city.memberships.get(college__kind="municipality"), version)


def test_a_city_running_it_keeps_it_until_it_votes(city, mayor, version, operator):
    decide(mayor, version)
    version_suspend(version=version, by=operator, reason="Faille signalée.")
    assert Deployment.objects.get(city=city).active
    assert decide(mayor, version, "undeploy").status == "executed"


def test_only_the_operator_and_only_an_audited_version(version, operator, staff, service):
    with writes_nothing(), pytest.raises(NotAllowed):
        version_suspend(version=version, by=service.provider.owner, reason="x")
    with writes_nothing(), pytest.raises(NotAllowed):
        version_suspend(version=version, by=staff, reason="x")
    with writes_nothing(), pytest.raises(InvalidInput):
        version_suspend(version=version, by=operator, reason=" ")
    version_suspend(version=version, by=operator, reason="x")
    with writes_nothing(), pytest.raises(WrongState):
        version_suspend(version=version, by=operator, reason="x")

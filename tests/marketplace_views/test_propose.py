"""Drafting a deploy_service proposal from the app store: members whose college the rules
allow; the draft carries the parameters the app store validates; refusals say why."""

from __future__ import annotations

import pytest

from governance.models import Proposal
from marketplace.services import version_suspend
from tests.factories import UserFactory, audited_version_make
from tests.marketplace.helpers import decide, writes_nothing

from .conftest import HX, logged_in, url

pytestmark = pytest.mark.django_db


def test_the_form_comes_prefilled_with_the_service(client, city, resident, version):
    logged_in(client, resident.user)

    response = client.get(
        url("propose", city.slug), {"action": "deploy", "service_version": version.public_id}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Deploy Vélos partagés (version 1)" in page
    assert "identifiant de compte" in page  # the declaration, to read before proposing


def test_a_member_drafts_a_deployment(client, city, resident, version):
    logged_in(client, resident.user)

    response = client.post(
        url("propose", city.slug),
        {"action": "deploy", "service_version": version.public_id, "title": "", "body": "Oui"},
    )

    proposal = Proposal.objects.get(city=city, kind="deploy_service")
    assert response.status_code == 302
    assert response["Location"] == f"/c/{city.slug}/p/{proposal.public_id}/"
    assert proposal.status == "draft" and proposal.author == resident
    assert proposal.parameters == {"action": "deploy", "service_version": version.public_id}
    assert proposal.title == "Deploy Vélos partagés (version 1)"


def test_htmx_is_sent_to_the_new_proposal(client, city, resident, version):
    logged_in(client, resident.user)

    response = client.post(
        url("propose", city.slug),
        {"action": "deploy", "service_version": version.public_id, "title": "Des vélos"},
        **HX,
    )

    proposal = Proposal.objects.get(city=city, kind="deploy_service")
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/c/{city.slug}/p/{proposal.public_id}/"


def test_deploying_what_already_runs_is_refused_with_its_reason(client, city, mayor, version):
    decide(mayor, version)
    logged_in(client, mayor.user)

    with writes_nothing():
        response = client.post(
            url("propose", city.slug),
            {"action": "deploy", "service_version": version.public_id, "title": "Encore"},
        )

    assert response.status_code == 409
    assert "already deployed in this city" in response.content.decode()


def test_a_suspended_version_cannot_be_proposed(client, city, mayor, operator, version):
    version_suspend(version=version, by=operator, reason="Faille découverte")
    logged_in(client, mayor.user)

    with writes_nothing():
        response = client.post(
            url("propose", city.slug),
            {"action": "deploy", "service_version": version.public_id, "title": "Vélos"},
        )

    assert response.status_code == 409
    assert "has not passed both audits" in response.content.decode()


def test_an_unknown_version_is_a_form_error(client, city, resident):
    logged_in(client, resident.user)

    with writes_nothing():
        response = client.post(
            url("propose", city.slug), {"action": "deploy", "service_version": "nope"}
        )

    assert response.status_code == 400
    assert "No such service version in the app store." in response.content.decode()


def test_undeploy_needs_the_service_running(client, city, mayor, version):
    logged_in(client, mayor.user)

    with writes_nothing():
        response = client.post(
            url("propose", city.slug),
            {"action": "undeploy", "service_version": version.public_id, "title": "Stop"},
        )

    assert response.status_code == 409


def test_an_anonymous_visitor_is_sent_to_log_in(client, city, version):
    target = url("propose", city.slug)

    response = client.post(target, {"action": "deploy", "service_version": version.public_id})

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["outsider", "foreign_staff"])
def test_who_is_not_a_member_of_this_city_cannot_propose(client, city, foreign_mayor, version, who):
    user = UserFactory() if who == "outsider" else foreign_mayor.user
    logged_in(client, user)

    with writes_nothing():
        response = client.post(
            url("propose", city.slug),
            {"action": "deploy", "service_version": version.public_id, "title": "Vélos"},
        )

    assert response.status_code == 403
    assert client.get(url("propose", city.slug)).status_code == 403


@pytest.mark.parametrize("action", ["undeploy", "upgrade"])
def test_staff_draft_an_undeploy_or_an_upgrade_of_a_running_service(
    client, city, mayor, service, version, auditor, action
):
    decide(mayor, version)
    target = (
        audited_version_make(service=service, auditor=auditor) if action == "upgrade" else version
    )
    logged_in(client, mayor.user)
    form = client.get(
        url("propose", city.slug), {"action": action, "service_version": target.public_id}
    )
    title = {"undeploy": "Stop Vélos partagés", "upgrade": "Upgrade Vélos partagés to version 2"}
    assert title[action] in form.content.decode()

    response = client.post(
        url("propose", city.slug),
        {"action": action, "service_version": target.public_id, "title": ""},
    )

    assert response.status_code == 302
    proposal = Proposal.objects.get(city=city, status="draft")
    assert proposal.parameters == {"action": action, "service_version": target.public_id}
    assert proposal.title == title[action]

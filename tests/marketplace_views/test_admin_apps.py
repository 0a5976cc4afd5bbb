"""The municipality's page of its services: votes under way, what runs here with its use
and revenue, and the proposals it may open. Its staff only."""

from __future__ import annotations

import pytest

from marketplace.services import execution_record
from tests.factories import UserFactory, audited_version_make, service_make
from tests.governance.helpers import open_vote
from tests.marketplace.helpers import decide, propose

from .conftest import logged_in, queries, url

pytestmark = pytest.mark.django_db


def test_staff_see_votes_deployments_usage_and_revenue(
    client, city, mayor, provider, version, auditor
):
    deployed = decide(mayor, version)
    deployment = deployed.deployments.get()
    for reference in ("run-1", "run-2", "run-3"):
        execution_record(deployment=deployment, reference=reference, by=provider.owner)
    waiting = audited_version_make(
        service=service_make(provider=provider, name="Parking malin"), auditor=auditor
    )
    in_vote = open_vote(propose(mayor, waiting), by=mayor)
    logged_in(client, mayor.user)

    response = client.get(url("admin_apps", city.slug))

    assert response.status_code == 200
    page = response.content.decode()
    assert in_vote.title in page and "Parking malin" in page  # awaiting its vote
    assert "Vélos partagés" in page
    # 3 executions at 0.25 € and the 100 € deployment fee
    assert '<td class="num">3</td>' in page
    assert "100.75\xa0€" in page
    assert f"action=undeploy&amp;service_version={version.public_id}" in page


def test_a_draft_awaits_too_and_an_upgrade_is_offered(
    client, city, mayor, service, version, auditor
):
    decide(mayor, version)
    newer = audited_version_make(service=service, auditor=auditor)
    other = audited_version_make(
        service=service_make(provider=service.provider, name="Parking malin"), auditor=auditor
    )
    draft = propose(mayor, other)
    logged_in(client, mayor.user)

    page = client.get(url("admin_apps", city.slug)).content.decode()

    assert draft.title in page and "draft: open the vote from its page" in page
    assert f"action=upgrade&amp;service_version={newer.public_id}" in page


def test_the_deploy_form_lists_audited_services_not_running_here(
    client, city, mayor, provider, version, auditor
):
    other = audited_version_make(
        service=service_make(provider=provider, name="Parking malin"), auditor=auditor
    )
    decide(mayor, version)
    logged_in(client, mayor.user)

    page = client.get(url("admin_apps", city.slug)).content.decode()

    assert f'<option value="{other.public_id}">' in page
    assert f'<option value="{version.public_id}">' not in page


def test_the_page_costs_the_same_with_more_deployments(client, city, mayor, provider, auditor):
    logged_in(client, mayor.user)

    def deploy(n, start):
        for i in range(start, start + n):
            version = audited_version_make(
                service=service_make(provider=provider, name=f"S{i}"), auditor=auditor
            )
            decide(mayor, version)

    deploy(1, 0)
    few = queries(client, url("admin_apps", city.slug))
    deploy(3, 1)
    assert queries(client, url("admin_apps", city.slug)) == few


def test_a_resident_is_refused(client, city, resident):
    logged_in(client, resident.user)

    assert client.get(url("admin_apps", city.slug)).status_code == 403


def test_staff_of_another_city_cannot_see_this_citys_page(client, city, foreign_mayor, version):
    logged_in(client, foreign_mayor.user)

    response = client.get(url("admin_apps", city.slug))

    assert response.status_code == 403
    assert "Vélos partagés" not in response.content.decode()


def test_the_operator_is_not_municipality_staff(client, city, operator):
    logged_in(client, operator)

    assert client.get(url("admin_apps", city.slug)).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, city):
    response = client.get(url("admin_apps", city.slug))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_outsider_is_refused(client, city):
    logged_in(client, UserFactory())

    assert client.get(url("admin_apps", city.slug)).status_code == 403

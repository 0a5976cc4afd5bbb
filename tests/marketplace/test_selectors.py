import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from marketplace.selectors import (
    ARTICLE30_COLUMNS,
    app_store,
    app_store_entry,
    audit_queue,
    city_deployments,
    gdpr_register,
    provider_get,
    services_awaiting_vote,
    version_get,
)
from marketplace.services import audit_request, execution_record
from tests.factories import (
    UserFactory,
    audited_version_make,
    provider_make,
    service_make,
    version_make,
)
from tests.governance.helpers import open_vote

from .helpers import decide, propose


def test_the_app_store_lists_audited_services_only(city, version, service):
    unaudited = service_make(provider=service.provider, name="Parking malin")
    version_make(service=unaudited)
    entries = app_store(city=city)
    assert [e.service for e in entries] == [service]
    entry = entries[0]
    assert entry.version == version
    assert sorted(a.kind for a in entry.audits) == ["legal", "technical"]
    assert (entry.deployed_here, entry.proposal) == (False, None)


def test_the_store_shows_the_latest_audited_version(city, version, auditor):
    newer = audited_version_make(service=version.service, auditor=auditor)
    version_make(service=version.service)  # a draft v3 is not shown
    assert app_store(city=city)[0].version == newer


def test_the_store_says_what_runs_here_and_the_latest_proposal(city, mayor, version):
    open_proposal = open_vote(propose(mayor, version))
    entry = app_store(city=city)[0]
    assert (entry.deployed_here, entry.proposal, entry.proposal_status) == (
        False,
        open_proposal,
        "open",
    )
    executed = decide(mayor, version, voters=[mayor])
    entry = app_store(city=city)[0]
    assert entry.deployed_here and entry.deployed_version == version
    assert entry.proposal == executed and entry.proposal_status == "executed"


def test_a_draft_proposal_is_not_shown(city, mayor, version):
    propose(mayor, version)
    assert app_store(city=city)[0].proposal is None


def test_a_deployment_elsewhere_is_not_here(city, other_city, operator, version):
    from tests.governance.helpers import appoint

    decide(appoint(other_city, operator), version)
    assert not app_store(city=city)[0].deployed_here
    assert app_store(city=other_city)[0].deployed_here


def test_filters_by_category_and_search(city, auditor, provider):
    velo = audited_version_make(service=service_make(provider=provider), auditor=auditor)
    agenda = audited_version_make(
        service=service_make(
            provider=provider,
            name="Agenda culturel",
            description="Les concerts et expositions de la semaine.",
            category="culture",
        ),
        auditor=auditor,
    )
    assert [e.version for e in app_store(city=city, category="culture")] == [agenda]
    assert [e.version for e in app_store(city=city, search="concerts")] == [agenda]
    assert [e.version for e in app_store(city=city, search="AGENDA")] == [agenda]
    assert [e.version for e in app_store(city=city, search="libre-service")] == [velo]
    assert len(app_store(city=city, search="mobilités douces")) == 2  # the provider's name
    assert app_store(city=city, category="water") == []


def test_one_store_entry_or_404(city, version, service):
    assert app_store_entry(city=city, public_id=service.public_id).version == version
    draft_only = service_make(provider=service.provider)
    version_make(service=draft_only)
    for public_id in (draft_only.public_id, "missing"):
        with pytest.raises(Http404):
            app_store_entry(city=city, public_id=public_id)


def _store_queries(city) -> int:
    with CaptureQueriesContext(connection) as queries:
        entries = app_store(city=city)
        shown = [
            (e.deployed_here, e.proposal_status, len(e.audits), e.version.label)
            + (e.service.provider.name, e.deployed_version)
            for e in entries
        ]
    assert len(shown) == len(entries)
    return len(queries)


def _grow(city, mayor, auditor, count):
    provider = provider_make(name="Fournisseur")
    for n in range(count):
        version = audited_version_make(
            service=service_make(provider=provider, name=f"Service {n:03d}"), auditor=auditor
        )
        if n % 5 == 0:
            decide(mayor, version)
        elif n % 5 == 1:
            open_vote(propose(mayor, version))


def test_the_app_store_query_count_does_not_grow(city, mayor, auditor):
    _grow(city, mayor, auditor, 10)
    at_ten = _store_queries(city)
    _grow(city, mayor, auditor, 40)
    assert len(app_store(city=city)) == 50
    assert _store_queries(city) == at_ten <= 5


def test_deployed_services_with_usage_and_revenue(city, mayor, version, auditor, provider):
    decide(mayor, version)
    other = audited_version_make(
        service=service_make(provider=provider, name="Agenda"), auditor=auditor
    )
    decide(mayor, other)
    rows = {d.service_id: d for d in city_deployments(city=city)}
    deployment = rows[version.service_id]
    for reference in ("a", "b", "c"):
        execution_record(deployment=deployment, reference=reference)
    with CaptureQueriesContext(connection) as queries:
        rows = {d.service_id: d for d in city_deployments(city=city)}
        [
            (d.usage_count, d.revenue_cents, d.service.provider.name, d.version.label)
            for d in rows.values()
        ]
    assert len(queries) == 1
    assert (rows[version.service_id].usage_count, rows[version.service_id].revenue_cents) == (
        3,
        10_000 + 3 * 25,
    )
    assert (rows[other.service_id].usage_count, rows[other.service_id].revenue_cents) == (
        0,
        10_000,
    )
    decide(mayor, version, "undeploy")
    assert [d.service_id for d in city_deployments(city=city)] == [other.service_id]
    assert len(city_deployments(city=city, active_only=False)) == 2


def test_services_awaiting_a_vote(city, mayor, version, auditor, provider):
    draft = propose(mayor, version)
    other = audited_version_make(service=service_make(provider=provider), auditor=auditor)
    voting = open_vote(propose(mayor, other))
    assert [(a.proposal, a.version, a.action) for a in services_awaiting_vote(city=city)] == [
        (voting, other, "deploy")
    ]
    with CaptureQueriesContext(connection) as queries:
        rows = services_awaiting_vote(city=city, include_drafts=True)
    assert {a.proposal for a in rows} == {draft, voting}
    assert len(queries) == 2


def test_the_article_30_register_comes_from_deployed_declarations(city, mayor, version):
    assert gdpr_register(city=city) == []
    decide(mayor, version)
    (row,) = gdpr_register(city=city)
    assert row.processing == version.service.name
    assert row.provider == version.service.provider.name
    assert row.purposes == version.purposes
    assert row.personal_data == ["identifiant de compte", "trajets"]
    assert row.declaration_digest == version.declaration_digest
    assert "contrat" in row.legal_basis or "contract" in row.legal_basis
    cells = row.cells()
    assert len(cells) == len(ARTICLE30_COLUMNS)
    assert "identifiant de compte; trajets" in cells


def test_unaudited_versions_are_for_their_provider_and_the_operator(service, operator, resident):
    draft = version_make(service=service)
    assert version_get(public_id=draft.public_id, user=service.provider.owner) == draft
    assert version_get(public_id=draft.public_id, user=operator) == draft
    for someone in (resident.user, UserFactory()):
        with pytest.raises(Http404):
            version_get(public_id=draft.public_id, user=someone)
    with pytest.raises(Http404):
        provider_get(public_id=service.provider.public_id, user=resident.user)


def test_the_audit_queue(service):
    draft = version_make(service=service)
    assert list(audit_queue()) == []
    audit_request(version=draft, by=service.provider.owner)
    assert list(audit_queue()) == [draft]

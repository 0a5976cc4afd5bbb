"""The app store in the browser, from a listing to a fee in the treasury: the demo provider
lists a service and its first version (its GDPR declaration and fees) and asks for the
audit; the operator records both reviews; the municipality proposes the deployment and opens
the vote; residents vote; the vote closes (the test calls the close, as the Celery beat
would) and the decision is executed; the city's store shows the service deployed, its record
of processing lists it, and the treasury shows the deployment fee.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from governance.models import Membership, Proposal, ProposalStatus
from governance.services import proposal_close, vote_cast
from marketplace.models import Deployment, Fee, ServiceVersion

from .conftest import (
    DEMO_CITY,
    DEMO_PASSWORD,
    DEMO_RESIDENT,
    pass_second_factor,
    prepare_context,
)

DEMO_STAFF = "mairie@demo.smartb.fr"
DEMO_PROVIDER = "provider@demo.smartb.fr"
DEMO_OPERATOR = "operator@demo.smartb.fr"
CITY_URL = f"/c/{DEMO_CITY}/"
SERVICE = "Stationnement vélo sécurisé"


@pytest.fixture
def open_browser(new_context, base_url):
    """A page in a new, English browser context; no uncaught JavaScript error allowed."""
    errors = []

    def open_page(*, javascript: bool = True):
        context = new_context(java_script_enabled=javascript)
        prepare_context(context, base_url, english=True)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    assert errors == [], errors


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    pass_second_factor(page, email)
    expect(page).to_have_url(re.compile(r"/me/$"))


def messages(page):
    return page.locator("#messages li")


def member(email: str) -> Membership:
    return Membership.objects.get(user__email=email, city__slug=DEMO_CITY, status="approved")


@pytest.mark.django_db(transaction=True)
def test_from_a_listing_to_a_deployment_voted_by_the_city(open_browser, demo_ledger):
    # 1. The provider lists a service and its first version, then asks for the audit.
    provider = open_browser()
    log_in(provider, DEMO_PROVIDER)
    provider.goto("/apps/provider/")
    organisation = provider.get_by_role("region", name="Vélo Services")
    organisation.get_by_role("link", name="List a service").click()
    provider.get_by_label("Name").fill(SERVICE)
    provider.get_by_label("What it does").fill("Des boxes à vélos fermés près des gares.")
    provider.get_by_label("Category").select_option("mobility")
    provider.get_by_role("button", name="List the service").click()
    expect(messages(provider)).to_contain_text(["Service listed."])

    provider.get_by_label("Version").fill("1.0")
    provider.get_by_label("Purposes of the processing").fill("Réserver un box et l'ouvrir.")
    provider.get_by_label("Legal basis").select_option("contract")
    provider.get_by_label("Categories of personal data").fill("identifiant de compte\nhoraires")
    provider.get_by_label("Categories of data subjects").fill("cyclistes abonnés")
    provider.get_by_label("Retention period").fill("1 an après la fin de l'abonnement")
    provider.get_by_label("Impact indicators").fill("11.2.1")
    provider.get_by_label("Deployment fee (€)").fill("250.50")
    provider.get_by_label("Fee per execution (€)").fill("0.10")
    provider.get_by_role("button", name="Save the version").click()  # HTMX, then redirected
    expect(provider).to_have_url(re.compile(r"/apps/provider/$"))
    version = ServiceVersion.objects.get(service__name=SERVICE)
    assert (version.deployment_fee_cents, version.execution_fee_cents) == (25_050, 10)
    row = provider.locator(f"#version-{version.public_id}")
    expect(row).to_contain_text("draft")
    row.get_by_role("button", name="Request the audit").click()
    expect(row).to_contain_text("awaiting audit")

    # 2. The operator records the technical and the legal review, each signed.
    operator = open_browser()
    log_in(operator, DEMO_OPERATOR)
    operator.get_by_role("link", name="Operator portal").click()
    queue = operator.get_by_role("region", name=re.compile(r"^Audit queue"))
    queue.get_by_role("link", name=SERVICE).click()
    expect(operator.get_by_role("heading", level=1)).to_contain_text(SERVICE)
    for review, findings, recorded in (
        ("technical review", "Boxes et application vérifiés.", "The technical review is"),
        ("legal review (DPO)", "Déclaration conforme.", "The legal review (DPO) is"),
    ):
        panel = operator.locator("#audit-panel")
        panel.get_by_label(review, exact=True).check()
        panel.get_by_label("pass", exact=True).check()
        panel.get_by_label("Findings").fill(findings)
        panel.get_by_role("button", name="Sign and record the review").click()
        expect(messages(operator)).to_contain_text([f"{recorded} recorded and signed."])
    expect(operator.locator("#audit-panel")).to_contain_text("not awaiting an audit")
    version.refresh_from_db()
    assert version.status == "audited"

    # 3. The municipality proposes the deployment and opens the vote.
    staff = open_browser()
    log_in(staff, DEMO_STAFF)
    staff.goto(CITY_URL)
    staff.get_by_role("navigation", name="Montpellier: sections").get_by_role(
        "link", name="App store"
    ).click()
    entry = staff.locator(f"#service-{version.service.public_id}")
    expect(entry).to_contain_text("not deployed here")
    staff.get_by_role("link", name="Municipality: services and votes").click()
    expect(staff).to_have_url(re.compile(rf"{CITY_URL}admin/apps/$"))
    staff.get_by_label("Audited service").select_option(version.public_id)
    staff.get_by_role("button", name="Propose", exact=True).click()
    expect(staff.get_by_label("Title")).to_have_value(f"Deploy {SERVICE} (version 1.0)")
    staff.get_by_role("button", name="Save the draft").click()
    proposal = Proposal.objects.get(
        kind="deploy_service", parameters__service_version=version.public_id
    )
    expect(staff).to_have_url(re.compile(rf"{CITY_URL}p/{proposal.public_id}/$"))
    closes = timezone.localtime(timezone.now() + timedelta(hours=48))
    staff.get_by_label("Voting closes on").fill(closes.strftime("%Y-%m-%dT%H:%M"))
    staff.get_by_role("button", name="Open the vote").click()
    expect(messages(staff)).to_contain_text(["The vote is open."])
    staff.goto(f"{CITY_URL}admin/apps/")
    awaiting = staff.get_by_role("region", name=re.compile(r"^Awaiting a vote"))
    expect(awaiting.get_by_role("row").filter(has_text=SERVICE)).to_contain_text("open")

    # 4. Residents vote: the demo resident in the browser, another through the service.
    resident = open_browser()
    log_in(resident, DEMO_RESIDENT)
    resident.goto(f"{CITY_URL}apps/")
    resident.locator(f"#service-{version.service.public_id}").get_by_role(
        "link", name=proposal.title
    ).click()
    panel = resident.locator("#vote-panel")
    panel.get_by_label("Yes", exact=True).check()
    panel.get_by_role("button", name="Sign and cast my vote").click()
    expect(panel).to_contain_text("You voted “yes”")
    vote_cast(proposal=proposal, member=member("hugo@demo.smartb.fr"), choice="yes")

    # 5. The vote closes; the accepted decision is executed (the eager Celery task).
    proposal.refresh_from_db()
    closed = proposal_close(proposal=proposal, now=proposal.closes_at + timedelta(minutes=1))
    assert closed.status == ProposalStatus.ACCEPTED
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.EXECUTED, proposal.failure_reason
    deployment = Deployment.objects.get(city__slug=DEMO_CITY, service=version.service)
    assert deployment.active and deployment.version == version
    fee = Fee.objects.get(deployment=deployment, kind="deployment")
    assert fee.amount_cents == 25_050

    # 6. The store shows it deployed, the record of processing lists it, the treasury the fee.
    resident.goto(f"{CITY_URL}apps/")
    entry = resident.locator(f"#service-{version.service.public_id}")
    expect(entry).to_contain_text("deployed here (version 1.0)")
    expect(entry).to_contain_text("executed")
    resident.goto(f"{CITY_URL}apps/register/")
    expect(resident.get_by_role("main")).to_contain_text(SERVICE)
    expect(resident.get_by_role("main")).to_contain_text("identifiant de compte; horaires")
    resident.goto(f"{CITY_URL}treasury/")
    movement = resident.get_by_role("row").filter(has_text=proposal.title)
    expect(movement).to_have_count(1)
    expect(movement).to_contain_text("250.50 €")
    expect(movement).to_contain_text("debit Bank (money available): 250.50 €")

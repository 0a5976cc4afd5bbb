"""Impact in the browser, from a service's claims to a verified retirement certificate: a
deployed service submits claims for a resident through the API; a curator approves one in
the browser; the tokens appear in the resident's portfolio, who spends some at a merchant's
offer and retires the rest; the certificate's receipt verifies on /ledger/verify/; the
municipality's SDG dashboard shows it all.

The city is built here through the services (not seed_demo), so the test depends only on
the impact pages and the API.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.authtoken.models import Token

from governance.services import city_create
from impact.models import Claim, Holding, MerchantRedemption, Methodology, Retirement
from impact.services import curator_grant, impact_load_catalogue, merchant_offer_create
from ledger.services import chain_seal
from tests.factories import PASSWORD, UserFactory
from tests.governance.helpers import POSTAL_CODES, appoint, join

from .conftest import prepare_context

CITY = "bourg"
MERCHANT_OFFER = "Révision de vélo"


@pytest.fixture
def world(transactional_db):
    """A city with its staff, a resident, a curator, and a provider whose service the city
    deployed by vote (it also sells bike repairs for tokens)."""
    from marketplace.services import provider_register
    from tests.factories import audited_version_make, service_make, valid_siret
    from tests.marketplace.helpers import decide

    impact_load_catalogue()
    operator = UserFactory(is_staff=True)
    city = city_create(
        operator=operator, slug=CITY, name="Bourg-en-Bresse", postal_codes=POSTAL_CODES
    )
    mayor = appoint(city, operator)
    resident = join(city, "residents", by=mayor.user)
    curator = join(city, "residents", by=mayor.user)
    curator_grant(city=city, membership=curator, by=mayor.user)
    provider = join(city, "providers", by=mayor.user)
    organisation = provider_register(
        by=provider.user, owner=provider.user, name="Vélos du Bourg", siret=valid_siret()
    )
    version = audited_version_make(service=service_make(provider=organisation))
    proposal = decide(mayor, version)
    assert proposal.status == "executed", proposal.failure_reason
    merchant_offer_create(
        city=city,
        by=provider.user,
        title=MERCHANT_OFFER,
        description="Une révision complète à l'atelier.",
        token_class=Methodology.objects.get(code="cycling-instead-of-car").token_class,
        price_quantity=50,
        settlement="transfer",
    )
    return {
        "city": city,
        "mayor": mayor,
        "resident": resident,
        "curator": curator,
        "provider": provider,
        "deployment": proposal.deployments.get(),
    }


@pytest.fixture
def open_browser(new_context, base_url):
    """A page in a new, English browser context; no uncaught JavaScript error and no
    console error (a Content-Security-Policy violation is one) allowed."""
    errors = []

    def open_page():
        context = new_context()
        prepare_context(context, base_url, english=True)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                errors.append(f"{page.url}: {message.text}") if message.type == "error" else None
            ),
        )
        return page

    yield open_page
    assert errors == [], errors


def log_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email", exact=True).fill(user.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/me/$"))


def to_impact(page, section: str | None = None) -> None:
    """From the city's page, through its navigation, to the impact section (and one of its
    pages)."""
    page.goto(f"/c/{CITY}/")
    page.get_by_role("navigation", name="Bourg-en-Bresse: sections").get_by_role(
        "link", name="Impact", exact=True
    ).click()
    if section:
        page.get_by_role("navigation", name="Impact: sections").get_by_role(
            "link", name=section, exact=True
        ).click()


def messages(page):
    return page.locator("#messages li")


def submit_claims_through_the_api(page, world) -> list[Claim]:
    """The provider's service submits two months of kilometres for the resident."""
    token = Token.objects.create(user=world["provider"].user)
    methodology = Methodology.objects.get(code="cycling-instead-of-car", version=1)
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    items = []
    for km, end in (
        ("1000", last_month_end),
        ("500", last_month_end.replace(day=1) - timedelta(days=1)),
    ):
        dataset = f"trajets-{end:%Y-%m}"
        items.append(
            {
                "claimant": world["resident"].public_id,
                "methodology": methodology.public_id,
                "parameters": {"distance_km": km},
                "period_start": end.replace(day=1).isoformat(),
                "period_end": end.isoformat(),
                "district": "centre",
                "evidence": [
                    {
                        "type": "trip-dataset",
                        "dataset": dataset,
                        "sha256": hashlib.sha256(dataset.encode()).hexdigest(),
                    }
                ],
            }
        )
    response = page.request.post(
        f"/api/v1/impact/cities/{CITY}/claims/batches",
        data=json.dumps(
            {"service": world["deployment"].public_id, "reference": "mars-avril", "items": items}
        ),
        headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
    )
    assert response.status == 201, response.text()
    assert len(response.json()["claims"]) == 2
    return list(Claim.objects.filter(claimant=world["resident"]).order_by("-period_end"))


@pytest.mark.django_db(transaction=True)
def test_from_a_services_claims_to_a_verified_retirement_certificate(open_browser, world):
    city, resident = world["city"], world["resident"]

    # 1. The deployed service submits claims for the resident, through the API.
    service = open_browser()
    claims = submit_claims_through_the_api(service, world)
    assert [c.state for c in claims] == ["submitted", "submitted"]
    approved = claims[0]  # 1000 km last month: 193 kg CO2e avoided
    assert approved.quantity == 193

    # 2. A curator approves one in the browser, after seeing the recomputation.
    curator = open_browser()
    log_in(curator, world["curator"].user)
    to_impact(curator, "Claims to verify")
    row = curator.locator(f"#queue-{approved.public_id}")
    expect(row).to_contain_text("193")
    expect(curator.locator(f"#queue-{claims[1].public_id}")).to_be_visible()
    row.get_by_role("link").click()
    decision = curator.get_by_role("region", name="Your decision")
    expect(decision).to_contain_text("matches the claim")
    decision.get_by_label("approve", exact=True).check()
    expect(decision.get_by_label("Recomputed quantity")).to_have_value("193")
    decision.get_by_role("button", name="Sign my decision").click()
    expect(messages(curator)).to_contain_text(["Claim approved"])
    credential = curator.get_by_role("region", name="Impact certificate (verifiable credential)")
    credential.get_by_role("button", name="Verify the credential").click()
    expect(curator.locator("#result")).to_contain_text("The credential verifies.")
    curator.get_by_role("button", name="Check with the API").click()  # the identity endpoint
    expect(curator.locator("#api-result")).to_contain_text("The identity endpoint verifies it.")
    approved.refresh_from_db()
    assert approved.state == "approved"

    # 3. The tokens are in the resident's portfolio, with their serials.
    page = open_browser()
    log_in(page, resident.user)
    to_impact(page, "My portfolio")
    expect(page.locator("#balance-tco2e-avoided")).to_contain_text("193 kg CO2e")
    prefix = f"{CITY.upper()}-TCO2E-AVOIDED-{approved.period_end.year}-00001"
    expect(page.get_by_role("region", name="Serial numbers")).to_contain_text(f"{prefix}-1..193")

    # 4. The resident spends 50 at the merchant's offer...
    page.get_by_role("navigation", name="Impact: sections").get_by_role(
        "link", name="Market"
    ).click()
    offer = page.locator(".card", has_text=MERCHANT_OFFER)
    offer.get_by_role("button", name="Spend my tokens").click()
    expect(messages(page)).to_contain_text(["Done: the tokens are spent."])
    assert MerchantRedemption.objects.get().quantity == 50

    # 5. ...and retires the rest, for a beneficiary.
    page.get_by_role("navigation", name="Impact: sections").get_by_role(
        "link", name="My portfolio"
    ).click()
    expect(page.locator("#balance-tco2e-avoided")).to_contain_text("143 kg CO2e")
    retire = page.get_by_role("region", name="Retire tokens")
    retire.get_by_label("Token class").select_option("tco2e-avoided")
    retire.get_by_label("Quantity").fill("143")
    retire.get_by_label("Reason").select_option("on_behalf")
    retire.get_by_label("Beneficiary (name)").fill("École Jules Ferry")
    retire.get_by_role("button", name="Retire for good").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirement certificate")
    retirement = Retirement.objects.get()
    assert not Holding.objects.filter(portfolio__user=resident.user, state="available").exists()
    certificate = page.locator("article.certificate")
    expect(certificate).to_contain_text(f"{prefix}-51..193")
    expect(certificate).to_contain_text("École Jules Ferry")
    expect(certificate).to_contain_text(approved.public_id)
    expect(certificate).to_contain_text(approved.batch_issued.credential.digest)
    expect(certificate).to_contain_text("reload this page to get its receipt")

    # 6. Once the block is sealed (Celery beat would), the certificate's receipt verifies.
    chain_seal(chain=city.chain)
    page.reload()
    expect(certificate).to_contain_text(retirement.entry.tx_hash)
    page.get_by_role("button", name="Verify this receipt").click()
    expect(page).to_have_url(re.compile(r"/ledger/verify/$"))
    expect(page.locator("#result")).to_contain_text("The receipt holds.")
    # Anyone can open the certificate.
    anonymous = open_browser()
    anonymous.goto(f"/c/{CITY}/impact/retirements/{retirement.public_id}/")
    expect(anonymous.locator("article.certificate")).to_contain_text(f"{prefix}-51..193")

    # 7. The municipality's dashboard shows it; the public figures too.
    staff = open_browser()
    log_in(staff, world["mayor"].user)
    to_impact(staff, "SDG dashboard")
    expect(staff.locator("#total-13\\.2\\.2")).to_contain_text("193 kg CO2e")
    expect(staff.locator("#tokens-tco2e-avoided")).to_contain_text("143 kg CO2e")  # retired
    expect(staff.locator("#state-submitted")).to_contain_text("1")
    staff.get_by_label("Period").select_option("all")  # HTMX swaps the figures
    expect(staff).to_have_url(re.compile(r"period=all"))
    expect(staff.locator("#total-13\\.2\\.2")).to_contain_text("193 kg CO2e")
    expect(staff.locator("svg[role=img] title").first).to_contain_text("13.2.2")
    anonymous.goto(f"/c/{CITY}/impact/dashboard/public/")
    expect(anonymous.locator("#total-13\\.2\\.2")).to_contain_text("193 kg CO2e")
    expect(anonymous.locator("#state-submitted")).to_have_count(0)

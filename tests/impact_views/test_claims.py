"""A member's claims through the pages: the form (methodology, measured values, period,
district, evidence file), the list and its fragment, the claim's page; who sees what."""

from __future__ import annotations

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from impact.models import Claim, Evidence
from ledger.models import Transaction
from tests.impact.helpers import cycling, draft_claim, submitted_claim

from .conftest import HX, logged_in, url


def claim_data(**fields) -> dict:
    data = {
        "methodology": cycling().public_id,
        "p_distance_km": "1000",
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
        "district": "centre",
        "evidence_type": "trip-export",
        "evidence": SimpleUploadedFile("trajets.csv", b"date,km\n2026-03-02,1000\n", "text/csv"),
        "submit": "on",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_a_member_submits_a_claim_with_its_evidence(client, city, resident):
    response = logged_in(client, resident).post(url("claim_create", city), claim_data())
    claim = Claim.objects.get(claimant=resident)
    assert response.status_code == 302
    assert response["Location"] == url("claim_detail", city, claim.public_id)
    assert claim.state == "submitted" and claim.quantity == 193
    assert claim.period_start == date(2026, 3, 1) and claim.district_code == "centre"
    evidence = Evidence.objects.get(claim=claim)
    assert evidence.filename == "trajets.csv"
    assert Transaction.objects.filter(kind="impact.evidence.add", payload__sha256=evidence.sha256)


def test_without_submitting_the_claim_stays_a_draft(client, city, resident):
    logged_in(client, resident).post(url("claim_create", city), claim_data(submit=None))
    claim = Claim.objects.get(claimant=resident)
    assert claim.state == "draft"
    response = client.post(url("claim_submit", city, claim.public_id))
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.state == "submitted"


def test_bad_values_answer_400_and_write_nothing(client, city, resident):
    before = Transaction.objects.count()
    response = logged_in(client, resident).post(
        url("claim_create", city), claim_data(p_distance_km="-5")
    )
    assert response.status_code == 400
    assert "distance_km is at least" in response.content.decode()
    assert not Claim.objects.exists()
    assert Transaction.objects.count() == before


def test_a_period_in_the_future_is_refused(client, city, resident):
    response = logged_in(client, resident).post(
        url("claim_create", city), claim_data(period_start="2099-01-01", period_end="2099-01-31")
    )
    assert response.status_code == 400
    assert not Claim.objects.exists()


def test_choosing_a_methodology_shows_its_parameters_and_htmx_gets_the_fragment(
    client, city, resident
):
    logged_in(client, resident)
    page = client.get(url("claim_create", city)).content.decode()
    assert "p_distance_km" not in page
    target = url("claim_create", city) + f"?methodology={cycling().public_id}"
    fragment = client.get(target, **HX).content.decode()
    assert 'name="p_distance_km"' in fragment
    assert "<html" not in fragment and 'id="claim-fields"' in fragment


def test_my_claims_lists_mine_and_filters_by_state_in_a_fragment(client, city, resident, neighbour):
    submitted = submitted_claim(resident)
    draft = draft_claim(resident, "12")
    others = submitted_claim(neighbour)
    logged_in(client, resident)
    page = client.get(url("claims", city)).content.decode()
    assert submitted.public_id in page and draft.public_id in page
    assert others.public_id not in page
    fragment = client.get(url("claims", city) + "?state=draft", **HX).content.decode()
    assert draft.public_id in fragment and submitted.public_id not in fragment
    assert "<html" not in fragment


def test_anonymous_visitors_are_sent_to_log_in(client, city):
    for name in ("claims", "claim_create", "portfolio", "queue", "dashboard"):
        response = client.get(url(name, city))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], name


def test_another_citys_member_sees_nothing_private(client, city, resident, foreign_member):
    claim = submitted_claim(resident)
    logged_in(client, foreign_member)
    assert client.get(url("claims", city)).status_code == 403
    assert client.get(url("claim_create", city)).status_code == 403
    assert client.get(url("portfolio", city)).status_code == 403
    assert client.get(url("claim_detail", city, claim.public_id)).status_code == 404
    evidence = Evidence.objects.get(claim=claim)
    assert client.get(url("evidence_download", city, evidence.public_id)).status_code == 404


def test_a_claim_of_another_city_is_404_under_this_city(client, city, other_city, resident):
    claim = submitted_claim(resident)
    logged_in(client, resident)
    assert client.get(url("claim_detail", city, claim.public_id)).status_code == 200
    assert client.get(url("claim_detail", other_city, claim.public_id)).status_code == 404


def test_the_claimant_adds_evidence_and_downloads_it(client, city, resident):
    claim = draft_claim(resident)
    logged_in(client, resident)
    page = client.get(url("claim_detail", city, claim.public_id)).content.decode()
    assert "Evidence missing for" in page and "trip-log" in page
    response = client.post(
        url("evidence_add", city, claim.public_id),
        {
            "evidence_type": "trip-export",
            "evidence": SimpleUploadedFile("t.csv", b"date,km\n", "text/csv"),
        },
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get(claim=claim)
    download = client.get(url("evidence_download", city, evidence.public_id))
    assert download.status_code == 200 and download.content == b"date,km\n"
    assert "Complete" in client.get(url("claim_detail", city, claim.public_id)).content.decode()


def test_another_member_cannot_add_evidence(client, city, resident, neighbour):
    claim = draft_claim(resident)
    response = logged_in(client, neighbour).post(
        url("evidence_add", city, claim.public_id),
        {"evidence_type": "trip-export", "evidence": SimpleUploadedFile("t.csv", b"x")},
    )
    assert response.status_code == 404
    assert not Evidence.objects.filter(claim=claim).exists()

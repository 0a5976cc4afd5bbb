"""The public reads: catalogue, methodologies, dashboard; every impact operation in the
OpenAPI schema."""

from __future__ import annotations

from tests.impact.helpers import issued

from .support import assert_error


def test_the_catalogue_is_public(anonymous, catalogue):
    goals = anonymous.get("goals").json()
    assert len(goals) == 17 and goals[10]["number"] == 11
    classes = anonymous.get("token-classes").json()
    assert {c["code"] for c in classes} >= {"tco2e-avoided", "kwh-saved"}
    methodologies = anonymous.get("methodologies").json()
    cycling = next(m for m in methodologies if m["code"] == "cycling-instead-of-car")
    assert cycling["factors"][1]["source"].startswith("ADEME Base Carbone")
    assert cycling["requirements"][0]["evidence_types"][0]["code"] == "trip-dataset"
    assert anonymous.get(f"methodologies/{cycling['public_id']}").status_code == 200
    assert_error(anonymous.get("methodologies/nope"), 404)


def test_the_dashboard_is_public(anonymous, resident, curator_member):
    issued(resident, curator_member, "1000")
    board = anonymous.get("cities/bourg/dashboard").json()
    assert board["by_month"][0]["quantity"] == 193 and board["by_month"][0]["goal"] == 13
    assert board["tokens"][0]["issued"] == 193
    assert_error(anonymous.get("cities/nowhere/dashboard"), 404)


def test_every_operation_is_in_the_schema(anonymous, db):
    schema = anonymous.client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    impact = {path for path in schema["paths"] if path.startswith("/api/v1/impact/")}
    for path in (
        "/api/v1/impact/goals",
        "/api/v1/impact/cities/{slug}/claims",
        "/api/v1/impact/cities/{slug}/claims/batches/prepare",
        "/api/v1/impact/cities/{slug}/claims/{public_id}/verify",
        "/api/v1/impact/cities/{slug}/portfolio",
        "/api/v1/impact/cities/{slug}/transfers",
        "/api/v1/impact/cities/{slug}/retirements",
        "/api/v1/impact/cities/{slug}/offers/{public_id}/buy",
        "/api/v1/impact/cities/{slug}/dashboard",
        "/api/v1/impact/retirements/{public_id}",
    ):
        assert path in impact, path

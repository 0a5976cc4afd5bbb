"""The ontology registry and curation endpoints, and the data marketplace's place in the
OpenAPI schema."""

from __future__ import annotations

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.data.models import Ontology, ReviewStatus
from tests.factories import dataset_make

from .ontologies import AIR_TTL, PARKING_SCHEMA
from .support import API, Api, assert_error

AIR = "https://vocab.smartb.example.org/air#"
SUBMISSION = {
    "city": "bourg",
    "name": "Qualité de l'air",
    "namespace": AIR,
    "version": "1.0",
    "format": "turtle",
}


def test_submit_as_text_then_curate(city, resident, curator, staff):
    response = Api(resident.user).post("ontologies/", {**SUBMISSION, "source": AIR_TTL})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending"
    assert len(body["terms"]) == body["term_count"] == 5
    pid = body["public_id"]
    queue = Api().get("cities/bourg/curation-queue").json()
    assert [o["public_id"] for o in queue["ontologies"]] == [pid]
    assert_error(Api(staff).post(f"ontologies/{pid}/curations", {"decision": "accept"}), 403)
    refused = Api(curator.user).post(f"ontologies/{pid}/curations", {"decision": "refuse"})
    assert_error(refused, 400, "invalid")
    accepted = Api(curator.user).post(f"ontologies/{pid}/curations", {"decision": "accept"})
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["task"] is not None
    detail = Api().get(f"ontologies/{pid}/").json()
    assert detail["status"] == "accepted"
    assert detail["curations"][0]["curator"] == curator.identity.did
    again = Api(curator.user).post(f"ontologies/{pid}/curations", {"decision": "accept"})
    assert_error(again, 409)
    listed = Api().get("ontologies/", {"status": "accepted"}).json()["results"]
    assert [o["public_id"] for o in listed] == [pid]
    assert listed[0]["term_count"] == 5


def test_submit_a_file_in_multipart(city, resident):
    upload = SimpleUploadedFile("parking.schema.json", PARKING_SCHEMA.encode())
    response = Api(resident.user).post_multipart(
        "ontologies/",
        {
            **SUBMISSION,
            "namespace": "https://vocab.smartb.example.org/parking",
            "format": "json-schema",
            "file": upload,
        },
    )
    assert response.status_code == 201, response.content
    assert Ontology.objects.get().format == "json-schema"


def test_submission_errors(city, resident):
    api = Api(resident.user)
    assert_error(api.post("ontologies/", SUBMISSION), 400, "invalid")  # no file, no text
    bad = api.post("ontologies/", {**SUBMISSION, "source": "@prefix nope"})
    assert_error(bad, 400, "invalid_ontology")
    assert_error(api.post("ontologies/", {**SUBMISSION, "format": "pdf", "source": "x"}), 400)
    assert_error(Api().post("ontologies/", {**SUBMISSION, "source": AIR_TTL}), 401)
    assert_error(api.get("ontologies/nope/"), 404)


def test_link_a_field_and_curate_the_link(city, staff, resident, curator):
    ontology_id = (
        Api(resident.user)
        .post("ontologies/", {**SUBMISSION, "source": AIR_TTL})
        .json()["public_id"]
    )
    Api(curator.user).post(f"ontologies/{ontology_id}/curations", {"decision": "accept"})
    dataset = dataset_make(city=city, by=staff)
    link = {"field_name": "pm10", "ontology": ontology_id, "term": f"{AIR}pm10"}
    assert_error(Api(resident.user).post(f"datasets/{dataset.public_id}/mappings", link), 404)
    unknown = Api(staff).post(
        f"datasets/{dataset.public_id}/mappings", {**link, "term": f"{AIR}nothing"}
    )
    assert_error(unknown, 404)
    response = Api(staff).post(f"datasets/{dataset.public_id}/mappings", link)
    assert response.status_code == 201, response.content
    mapping = response.json()
    assert mapping["status"] == "pending"
    assert_error(Api(staff).post(f"datasets/{dataset.public_id}/mappings", link), 409)
    refused = Api(curator.user).post(
        f"mappings/{mapping['public_id']}/curations",
        {"decision": "refuse", "reason": "pm10 est une propriété de mesure, pas de station."},
    )
    assert refused.status_code == 201, refused.content
    detail = Api().get(f"mappings/{mapping['public_id']}/").json()
    assert detail["status"] == ReviewStatus.REFUSED
    assert "pas de station" in detail["reason"]
    listed = Api().get(f"datasets/{dataset.public_id}/mappings").json()
    assert [m["status"] for m in listed] == ["refused"]


def test_the_staff_open_the_curators_college(city, staff, resident):
    assert_error(Api(resident.user).post("cities/bourg/curators-college"), 403)
    response = Api(staff).post("cities/bourg/curators-college")
    assert response.status_code == 201
    assert response.json() == {"city": "bourg", "slug": "curators", "kind": "other"}
    assert_error(Api(staff).post("cities/bourg/curators-college"), 409)


OPERATIONS = {
    ("get", f"{API}/catalogue.ttl"): "data_catalogue_turtle",
    ("get", f"{API}/catalogue.jsonld"): "data_catalogue_jsonld",
    ("get", f"{API}/datasets/"): "data_datasets",
    ("post", f"{API}/datasets/"): "data_dataset_create",
    ("get", f"{API}/datasets/{{public_id}}/"): "data_dataset",
    ("post", f"{API}/datasets/{{public_id}}/versions"): "data_version_create",
    ("get", f"{API}/datasets/{{public_id}}/mappings"): "data_dataset_mappings",
    ("post", f"{API}/datasets/{{public_id}}/mappings"): "data_mapping_propose",
    ("post", f"{API}/versions/{{public_id}}/distributions"): "data_distribution_link",
    ("post", f"{API}/versions/{{public_id}}/uploads"): "data_upload_start",
    ("get", f"{API}/uploads/{{public_id}}/"): "data_upload",
    ("delete", f"{API}/uploads/{{public_id}}/"): "data_upload_abort",
    ("put", f"{API}/uploads/{{public_id}}/chunks/{{index}}"): "data_upload_chunk",
    ("post", f"{API}/uploads/{{public_id}}/complete"): "data_upload_complete",
    ("get", f"{API}/ontologies/"): "data_ontologies",
    ("post", f"{API}/ontologies/"): "data_ontology_submit",
    ("get", f"{API}/ontologies/{{public_id}}/"): "data_ontology",
    ("post", f"{API}/ontologies/{{public_id}}/curations"): "data_ontology_curate",
    ("get", f"{API}/mappings/{{public_id}}/"): "data_mapping",
    ("post", f"{API}/mappings/{{public_id}}/curations"): "data_mapping_curate",
    ("get", f"{API}/cities/{{slug}}/curation-queue"): "data_curation_queue",
    ("post", f"{API}/cities/{{slug}}/curators-college"): "data_curators_college_open",
}


@pytest.mark.django_db
def test_the_schema_lists_every_part_one_operation_with_json_errors(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    found = {
        (method, path): operation["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith(f"{API}/")
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert OPERATIONS.items() <= found.items()
    chunk = schema["paths"][f"{API}/uploads/{{public_id}}/chunks/{{index}}"]["put"]
    assert "application/octet-stream" in chunk["requestBody"]["content"]
    assert chunk["responses"]["413"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApiError"
    }
    turtle = schema["paths"][f"{API}/catalogue.ttl"]["get"]["responses"]
    assert "text/turtle" in turtle["200"]["content"]

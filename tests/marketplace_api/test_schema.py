"""Every app store endpoint is in the OpenAPI schema, with the JSON error body among its
answers; no operation deploys a service."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.django_db

M = "/api/v1/marketplace"
OPERATIONS = {
    ("get", f"{M}/cities/{{slug}}/services/"): "marketplace_store",
    ("get", f"{M}/cities/{{slug}}/services/{{public_id}}/"): "marketplace_store_service",
    ("get", f"{M}/cities/{{slug}}/deployments/"): "marketplace_deployments",
    ("get", f"{M}/cities/{{slug}}/awaiting-vote"): "marketplace_awaiting_vote",
    ("get", f"{M}/cities/{{slug}}/processing-register"): "marketplace_processing_register",
    ("post", f"{M}/providers/"): "marketplace_provider_register",
    ("get", f"{M}/providers/{{public_id}}/"): "marketplace_provider",
    ("post", f"{M}/providers/{{public_id}}/services"): "marketplace_service_create",
    ("post", f"{M}/services/{{public_id}}/versions"): "marketplace_version_create",
    ("get", f"{M}/audits/queue"): "marketplace_audit_queue",
    ("get", f"{M}/versions/{{public_id}}/"): "marketplace_version",
    ("post", f"{M}/versions/{{public_id}}/audit-request"): "marketplace_audit_request",
    ("post", f"{M}/versions/{{public_id}}/audits"): "marketplace_audit_record",
    ("post", f"{M}/versions/{{public_id}}/suspend"): "marketplace_version_suspend",
    (
        "post",
        f"{M}/deployments/{{public_id}}/executions/prepare",
    ): "marketplace_execution_prepare",
    ("post", f"{M}/deployments/{{public_id}}/executions"): "marketplace_execution_record",
    ("get", f"{M}/tasks/"): "marketplace_tasks",
    ("post", f"{M}/tasks/"): "marketplace_task_create",
    ("get", f"{M}/tasks/{{public_id}}/"): "marketplace_task",
    ("post", f"{M}/tasks/{{public_id}}/claim"): "marketplace_task_claim",
    ("post", f"{M}/tasks/{{public_id}}/complete"): "marketplace_task_complete",
    ("post", f"{M}/tasks/{{public_id}}/pay"): "marketplace_task_pay",
}


def test_the_schema_lists_every_app_store_operation_once(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    found = {
        (method, path): operation["operationId"]
        for path, item in schema["paths"].items()
        if path.startswith(f"{M}/") and not path.startswith(f"{M}/data/")
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
        and not operation["operationId"].startswith("data_")  # the data contracts (issue 5)
    }
    assert found == OPERATIONS
    record = schema["paths"][f"{M}/deployments/{{public_id}}/executions"]["post"]
    assert {"201", "400", "401", "403", "404", "409"} <= set(record["responses"])
    assert record["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApiError"
    }
    assert not any("deploy" in op for op in found.values() if op != "marketplace_deployments")

"""The OpenAPI description is generated from the routes: it lists each of them, and only them."""

from __future__ import annotations

import json
import re
from typing import Any

from functions.routes import all_routes, openapi_document
from shared.api.http import Route

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def described_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def routes() -> list[Route]:
    return all_routes().routes


def test_description_lists_every_route_and_nothing_else() -> None:
    served = {(route.method, route.openapi_path) for route in routes()}
    described = described_operations(openapi_document())
    assert served - described == set(), "routes missing from the description"
    assert described - served == set(), "described operations no route serves"
    assert len(served) == len(routes()), "two routes share a method and path"


def test_every_reference_resolves() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[-1] in schemas, ref


def test_error_statuses_follow_auth_and_body() -> None:
    document = openapi_document()
    for route in routes():
        responses = document["paths"][route.openapi_path][route.method.lower()]["responses"]
        statuses = set(responses)
        assert {"400", "413"} <= statuses, route.path
        assert str(route.status) in statuses
        assert ("401" in statuses) == (route.auth != "none"), route.path
        assert ("415" in statuses) == (route.body is not None), route.path
        if route.path_param_names:
            assert "404" in statuses, route.path
        # A worker's callback reports work already done: maintenance does not refuse it.
        exempt = route.auth == "callback" or route.path.startswith(
            ("/v1/health", "/v1/openapi.json", "/v1/admin")
        )
        assert ("503" in statuses) == (not exempt), route.path
        for status, response in responses.items():
            assert "Request-Id" in response["headers"]
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"}
                assert response["content"]["application/json"]["examples"]


def test_security_follows_the_route_auth() -> None:
    document = openapi_document()
    expected: dict[str, list[dict[str, list[str]]]] = {
        "none": [],
        "key": [{"ApiKey": []}],
        "user": [{"FirebaseIdToken": []}],
        "user_or_key": [{"ApiKey": []}, {"FirebaseIdToken": []}],
        "admin": [{"AdminIdToken": []}],
        "callback": [{"CallbackToken": []}],
    }
    for route in routes():
        operation = document["paths"][route.openapi_path][route.method.lower()]
        assert operation["security"] == expected[route.auth], route.path


def test_bodies_and_queries_come_from_the_validating_models() -> None:
    document = openapi_document()
    for route in routes():
        operation = document["paths"][route.openapi_path][route.method.lower()]
        if route.body is not None:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
            assert schema["additionalProperties"] is False  # unknown fields are refused
            assert set(schema.get("properties", {})) == set(route.body.model_fields)
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        # Parameters go by their alias when they have one (`from` is a Python keyword).
        names = {field.alias or name for name, field in route.query.model_fields.items()}
        assert query == names, route.path
    jobs = document["paths"]["/v1/jobs"]["get"]["parameters"]
    limit = next(p for p in jobs if p["name"] == "limit")
    assert limit["schema"]["minimum"] == 1 and limit["schema"]["maximum"] == 100


def test_document_is_json_and_cached() -> None:
    assert openapi_document() is openapi_document()
    assert json.loads(json.dumps(openapi_document()))["openapi"] == "3.1.0"


def test_purchases_and_ledger_show_the_money_lifecycle() -> None:
    schemas = openapi_document()["components"]["schemas"]
    assert {"clawback", "refund_reversal", "dispute", "dispute_reversal"} <= set(
        schemas["LedgerEntryType"]["enum"]
    )
    assert {"requires_action", "canceled", "disputed_lost"} <= set(schemas["PurchaseStatus"]["enum"])
    purchase = schemas["Purchase"]["properties"]
    assert {"next_action", "amount_refunded", "dispute_status"} <= set(purchase)
    assert set(schemas["NextAction"]["properties"]) == {"type", "redirect_url", "client_secret"}


def test_operation_ids_and_schema_names_read_as_client_names() -> None:
    """Generated clients name their methods after operationIds and their types after schema names."""
    document = openapi_document()
    operation_ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert len(operation_ids) == len(set(operation_ids)), "two operations share an operationId"
    for operation_id in operation_ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", operation_id), operation_id
    names = set(document["components"]["schemas"])
    assert {"Job", "JobListItemPage", "ApiKey", "UsageReport", "ErrorEnvelope"} <= names
    assert not [name for name in names if name.endswith("Resource") or "_" in name]
    assert not [name for name in names if name.endswith("Query")], "query models are parameters"

"""GET /v1/openapi.json through the functions host: no authentication, served in maintenance mode too."""

from __future__ import annotations

import schemathesis

from tests.support.openapi_operations import all_operations
from tests.support.platform import ApiClient


def test_served_without_auth_and_loadable(api: ApiClient) -> None:
    response = api.request("GET", "/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"][0]["url"].endswith("/us-central1/api")
    schema = schemathesis.openapi.from_dict(document)
    assert len(all_operations(schema)) >= 29


def test_served_during_maintenance(api: ApiClient) -> None:
    admin = api.user_token("admin", admin=True)
    assert api.request("PUT", "/v1/admin/maintenance", token=admin, json={"enabled": True}).status_code == 200
    try:
        assert api.request("GET", "/v1/credit_packages").status_code == 503
        assert api.request("GET", "/v1/openapi.json").status_code == 200
        assert api.request("GET", "/v1/health").status_code == 200
    finally:
        api.request("PUT", "/v1/admin/maintenance", token=admin, json={"enabled": False})


def test_hygiene_through_the_host(api: ApiClient) -> None:
    token = api.user_token("hygiene-user")
    too_big = api.request(
        "PUT",
        "/v1/webhook",
        token=token,
        data=b"{" + b" " * 70_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "request_too_large"
    form = api.request(
        "PUT", "/v1/webhook", token=token, data="url=x", headers={"Content-Type": "text/plain"}
    )
    assert form.status_code == 415
    unknown = api.request("PUT", "/v1/webhook", token=token, json={"url": "http://127.0.0.1:9/", "x": 1})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "x"
    odd = api.request("GET", "/v1/jobs/" + "%2E%2E", token="sk_test_x")
    assert odd.status_code in (401, 404)
    assert api.request("GET", "/v1/credit_packages?limit=0").json()["error"]["param"] == "limit"
    assert api.request("GET", "/v1/health?verbose=1").json()["error"]["param"] == "verbose"

"""The dashboard's local hosting (localdev/web.py): the SPA for any path, its runtime config, and `/v1/**`
proxied to the api function with the API's own status, JSON errors and headers (as Firebase Hosting rewrites)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from localdev.emulators import free_port
from localdev.web import dashboard_config, web_server
from tests.conftest import Project
from tests.support.platform import create_api_key, ensure_auth_user
from tests.support.tokens import id_token


@pytest.fixture
def site(project: Project, tmp_path: Path) -> Iterator[str]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>dashboard</title>")
    (dist / "assets" / "app.js").write_text("console.log('app')")
    port = free_port()
    config = dashboard_config(project.id, project.stack.auth_host, project.stack.stripe_api_base)
    server = web_server(port, project.function_url("api"), config, tmp_path, dist=dist).start(timeout=30)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_static_files_spa_fallback_and_runtime_config(site: str, project: Project) -> None:
    assert "javascript" in requests.get(f"{site}/assets/app.js", timeout=10).headers["Content-Type"]
    for path in ("/", "/keys", "/nested/route?x=1", "/%2e%2e/%2e%2e/etc/passwd"):
        response = requests.get(site + path, timeout=10)
        assert response.status_code == 200
        assert response.text.startswith("<!doctype html>"), path
    config = requests.get(f"{site}/dashboard-config.json", timeout=10).json()
    assert config["firebase"]["projectId"] == project.id
    assert config["authEmulatorUrl"] == f"http://{project.stack.auth_host}"
    assert config["stripeJsUrl"].endswith("/js.stripe.com/v3/")


def test_v1_is_proxied_with_status_errors_and_headers(site: str, project: Project) -> None:
    assert requests.get(f"{site}/v1/health", timeout=10).json() == {"status": "ok"}
    missing = requests.get(f"{site}/v1/account", timeout=10)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_api_key"
    assert missing.headers["Request-Id"]
    ensure_auth_user(project.id, "alice")  # the API checks every token against the user's record
    token = id_token(project.id, "alice", email="alice@example.com")
    created = requests.post(f"{site}/v1/account", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert created.status_code == 201, created.text
    # Another customer's key sees only its own account through the same origin.
    _, key = create_api_key("bob")
    assert (
        requests.get(f"{site}/v1/whoami", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()[
            "user_id"
        ]
        == "bob"
    )
    bad = requests.post(
        f"{site}/v1/api_keys",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        data=b"{not json",
        timeout=10,
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"


def test_writes_outside_v1_get_a_json_405(site: str) -> None:
    response = requests.post(f"{site}/keys", json={}, timeout=10)
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_every_answer_carries_the_dashboard_security_headers(site: str, project: Project) -> None:
    stripe = project.stack.stripe_api_base.rstrip("/")
    for path in ("/", "/keys", "/assets/app.js", "/dashboard-config.json", "/v1/health"):
        headers = requests.get(site + path, timeout=10).headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))
        assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'self'"
        # Only the app, the stand-in Stripe.js (localstripe) and the Auth emulator.
        assert policy["script-src"] == f"'self' {stripe}"
        assert policy["connect-src"] == f"'self' {stripe} http://{project.stack.auth_host}"

"""The dashboard's security headers: firebase.json's Hosting headers are the policy localdev/web.py
generates for production (the local server sends the same with the local stand-ins' origins)."""

from __future__ import annotations

import json

from localdev.emulators import REPO_ROOT
from localdev.web import local_headers, production_headers


def _hosting_headers() -> dict[str, str]:
    hosting = json.loads((REPO_ROOT / "firebase.json").read_text())["hosting"]
    [everything] = [rule for rule in hosting["headers"] if rule["source"] == "**"]
    return {header["key"]: header["value"] for header in everything["headers"]}


def _policy(headers: dict[str, str]) -> dict[str, str]:
    return dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))


def test_firebase_json_serves_the_production_policy() -> None:
    headers = _hosting_headers()
    assert headers == production_headers()
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"]
    policy = _policy(headers)
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    allowed = {
        origin for directive in policy.values() for origin in directive.split() if origin.startswith("https:")
    }
    assert allowed == {
        "https://js.stripe.com",
        "https://hooks.stripe.com",
        "https://api.stripe.com",
        "https://identitytoolkit.googleapis.com",
        "https://securetoken.googleapis.com",
    }
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]


def test_the_local_server_swaps_in_the_local_stand_ins() -> None:
    config = {
        "stripeJsUrl": "http://127.0.0.1:8420/js.stripe.com/v3/",
        "authEmulatorUrl": "http://127.0.0.1:9099",
    }
    policy = _policy(local_headers(config))
    assert policy["script-src"] == "'self' http://127.0.0.1:8420"
    assert policy["connect-src"] == "'self' http://127.0.0.1:8420 http://127.0.0.1:9099"
    assert {k: v for k, v in policy.items() if k not in ("script-src", "frame-src", "connect-src")} == {
        k: v
        for k, v in _policy(production_headers()).items()
        if k not in ("script-src", "frame-src", "connect-src")
    }

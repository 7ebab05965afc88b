"""A production instance with unusable settings answers 500 (JSON, logged) on every call and applies nothing:
the entry points check settings before any handler runs. No server or network is involved: the refusal
happens before any client would be created."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import flask
import pytest
import stripe

from functions.api import api
from functions.entry_points import cloudevent_entry
from functions.stripe_webhook import stripe_webhook
from shared.core.settings import (
    LOCAL_ONLY_VARIABLES,
    LOCAL_STRIPE_WEBHOOK_SECRET,
    RUNTIME_VARIABLES,
    SettingsError,
    get_settings,
)

LIVE_KEY = "sk_live_" + "a1B2c3D4e5F6g7H8i9J0"
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("PLATFORM_ENV", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", *LOCAL_ONLY_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    for name in RUNTIME_VARIABLES:
        monkeypatch.setenv(name, "api")
    # Deployed functions always mount it (Memorystore: AUTH, in-transit encryption).
    monkeypatch.setenv("REDIS_URL", "rediss://:auth-string@127.0.0.1:1/0")
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def call(function: object, method: str, path: str, body: bytes = b"", **headers: str) -> flask.Response:
    app = flask.Flask("entry-guard-test")
    with app.test_request_context(path, method=method, data=body, headers=headers):
        response = function(flask.request)  # type: ignore[operator]
    assert isinstance(response, flask.Response)
    return response


def forged_payment_event() -> tuple[bytes, str]:
    """What finding 1 reproduced: an event signed with the well-known local secret."""
    body = json.dumps(
        {
            "id": "evt_forged",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "livemode": True,
            "data": {"object": {"id": "pi_forged", "object": "payment_intent", "metadata": {}}},
        }
    ).encode()
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(
        f"{timestamp}.{body.decode()}", LOCAL_STRIPE_WEBHOOK_SECRET
    )
    return body, f"t={timestamp},v1={signature}"


def test_stripe_webhook_without_its_secret_refuses_a_forged_event(production: pytest.MonkeyPatch) -> None:
    production.setenv("STRIPE_SECRET_KEY", LIVE_KEY)  # the webhook secret is the one missing
    body, header = forged_payment_event()
    for _ in range(2):  # every call, not only the first
        response = call(stripe_webhook, "POST", "/", body, **{"Stripe-Signature": header})
        assert response.status_code == 500
        assert response.get_json()["error"]["code"] == "internal_error"
        assert "Request-Id" in response.headers


def test_api_without_stripe_secrets_answers_500_on_every_route(production: pytest.MonkeyPatch) -> None:
    for path in ("/v1/health", "/v1/account"):
        response = call(api, "GET", path)
        assert response.status_code == 500
        assert response.get_json()["error"]["code"] == "internal_error"


def test_api_with_a_local_switch_in_production_answers_500(production: pytest.MonkeyPatch) -> None:
    production.setenv("STRIPE_SECRET_KEY", LIVE_KEY)
    production.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    production.setenv("STRIPE_API_BASE", "http://127.0.0.1:1")
    assert call(api, "GET", "/v1/health").status_code == 500
    production.delenv("STRIPE_API_BASE")
    assert call(api, "GET", "/v1/health").status_code == 200


def test_local_inside_the_deployed_runtime_answers_500(production: pytest.MonkeyPatch) -> None:
    production.setenv("PLATFORM_ENV", "local")  # K_SERVICE and FUNCTION_TARGET are set by the fixture
    assert call(api, "GET", "/v1/health").status_code == 500


def test_event_driven_functions_fail_every_event_when_refused(production: pytest.MonkeyPatch) -> None:
    ran: list[object] = []
    handler = cloudevent_entry(ran.append)
    production.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")
    with pytest.raises(SettingsError):
        handler({"id": "e1", "type": "t"})  # type: ignore[arg-type]
    assert ran == []

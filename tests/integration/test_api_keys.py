"""Accounts, API keys and authentication through HTTP on the functions host."""

from __future__ import annotations

from typing import Any

import pytest

from shared.core.clients import firestore_client
from shared.system.config import config_ref, seed_system_config
from tests.conftest import Project
from tests.support.platform import ApiClient
from tests.support.waiting import eventually


def _error(response: Any) -> dict[str, Any]:
    assert response.headers["Request-Id"].startswith("req_")
    assert response.headers["Content-Type"].startswith("application/json")
    return dict(response.json()["error"])


def _signed_up(api: ApiClient, uid: str) -> str:
    token = api.user_token(uid, email=f"{uid}@example.test")
    assert api.request("POST", "/v1/account", token=token).status_code in (200, 201)
    return token


def _new_key(api: ApiClient, token: str, environment: str = "live", name: str = "k") -> dict[str, Any]:
    response = api.request(
        "POST", "/v1/api_keys", token=token, json={"name": name, "environment": environment}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_account_is_created_once(api: ApiClient) -> None:
    token = api.user_token("alice", email="alice@example.test")
    first = api.request("POST", "/v1/account", token=token)
    second = api.request("POST", "/v1/account", token=token)
    assert (first.status_code, second.status_code) == (201, 200)
    # The sign-up trigger may have made alice a founding member in between: compare what it does not touch.
    stable = ("user_id", "email", "credits", "created_at")
    assert {k: first.json()[k] for k in stable} == {k: second.json()[k] for k in stable}
    body = first.json()
    assert body["user_id"] == "alice" and body["credits"] == 0
    assert body["founding_member"] is False and body["founding_member_number"] is None


def test_account_readable_with_token_or_key(api: ApiClient) -> None:
    token = _signed_up(api, "alice")
    key = _new_key(api, token)["key"]
    by_key = api.request("GET", "/v1/account", token=key)
    by_token = api.request("GET", "/v1/account", token=token)
    assert by_key.status_code == by_token.status_code == 200
    assert by_key.json()["user_id"] == "alice"
    assert by_key.json()["credits"] == by_token.json()["credits"]


def test_missing_account_is_a_clear_404(api: ApiClient) -> None:
    response = api.request("GET", "/v1/account", token=api.user_token("nobody"))
    assert response.status_code == 404 and _error(response)["code"] == "resource_missing"


def test_key_creation_shows_the_plaintext_once(api: ApiClient) -> None:
    token = _signed_up(api, "alice")
    created = _new_key(api, token, "live", "prod")
    key = created["key"]
    assert key.startswith("sk_live_") and created["key_prefix"] == key[:12]
    assert created["environment"] == "live" and created["livemode"] is True and created["status"] == "active"
    listed = api.request("GET", "/v1/api_keys", token=token).json()["data"]
    assert [k["key_id"] for k in listed] == [created["key_id"]]
    assert "key" not in listed[0] and "key_hash" not in listed[0]
    stored = firestore_client().collection("api_keys").document(created["key_id"]).get().to_dict() or {}
    assert key not in str(stored) and len(stored["key_hash"]) == 64


@pytest.mark.parametrize("environment", ["live", "test"])
def test_whoami_reports_the_environment(api: ApiClient, environment: str) -> None:
    token = _signed_up(api, "alice")
    created = _new_key(api, token, environment)
    response = api.request("GET", "/v1/whoami", token=created["key"])
    assert response.status_code == 200
    assert response.json() == {
        "key_id": created["key_id"],
        "user_id": "alice",
        "environment": environment,
        "livemode": environment == "live",
    }


def test_missing_api_key(api: ApiClient) -> None:
    response = api.request("GET", "/v1/whoami")
    assert response.status_code == 401
    assert _error(response) == {
        "type": "authentication_error",
        "code": "missing_api_key",
        "message": _error(response)["message"],
    }


@pytest.mark.parametrize(
    "header",
    ["Bearer sk_live_notarealkey", "Bearer sk_live_" + "A" * 38, "Basic abc", "Bearer", "Bearer not-a-key"],
)
def test_invalid_api_keys(api: ApiClient, header: str) -> None:
    response = api.request("GET", "/v1/whoami", headers={"Authorization": header})
    assert response.status_code == 401 and _error(response)["code"] == "invalid_api_key"


def test_unknown_key_with_valid_checksum_is_invalid(api: ApiClient) -> None:
    from shared.keys.format import generate_api_key

    response = api.request("GET", "/v1/whoami", token=generate_api_key("live"))
    assert response.status_code == 401 and _error(response)["code"] == "invalid_api_key"


def test_typo_in_a_real_key_is_invalid(api: ApiClient) -> None:
    key = _new_key(api, _signed_up(api, "alice"))["key"]
    typo = key[:20] + ("a" if key[20] != "a" else "b") + key[21:]
    response = api.request("GET", "/v1/whoami", token=typo)
    assert response.status_code == 401 and _error(response)["code"] == "invalid_api_key"


def test_revoked_key_is_refused(api: ApiClient) -> None:
    token = _signed_up(api, "alice")
    created = _new_key(api, token)
    assert api.request("GET", "/v1/whoami", token=created["key"]).status_code == 200
    revoked = api.request("POST", f"/v1/api_keys/{created['key_id']}/revoke", token=token)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    response = api.request("GET", "/v1/whoami", token=created["key"])
    assert response.status_code == 401 and _error(response)["code"] == "api_key_revoked"
    again = api.request("POST", f"/v1/api_keys/{created['key_id']}/revoke", token=token)
    assert again.status_code == 200 and again.json()["status"] == "revoked"


def test_roll_without_grace_expires_the_old_key_at_once(api: ApiClient) -> None:
    token = _signed_up(api, "alice")
    old = _new_key(api, token, "test")
    rolled = api.request("POST", f"/v1/api_keys/{old['key_id']}/roll", token=token, json={"expires_in": 0})
    assert rolled.status_code == 201
    new = rolled.json()
    assert new["key"].startswith("sk_test_") and new["rolled_from"]["status"] == "expired"
    response = api.request("GET", "/v1/whoami", token=old["key"])
    assert response.status_code == 401 and _error(response)["code"] == "api_key_expired"
    assert api.request("GET", "/v1/whoami", token=new["key"]).json()["key_id"] == new["key_id"]


def test_rolled_key_works_during_its_grace_period(api: ApiClient) -> None:
    token = _signed_up(api, "alice")
    old = _new_key(api, token)
    rolled = api.request("POST", f"/v1/api_keys/{old['key_id']}/roll", token=token, json={"expires_in": 3600})
    new = rolled.json()
    assert api.request("GET", "/v1/whoami", token=old["key"]).status_code == 200
    assert api.request("GET", "/v1/whoami", token=new["key"]).status_code == 200
    assert new["rolled_from"]["expires_at"] - new["created_at"] in range(3599, 3602)
    twice = api.request("POST", f"/v1/api_keys/{old['key_id']}/roll", token=token, json={})
    assert twice.status_code == 409 and _error(twice)["code"] == "illegal_state_transition"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"expires_in": -1}, "expires_in"),
        ({"expires_in": 604801}, "expires_in"),
        ({"expires_in": "60"}, "expires_in"),
        ({"grace": 1}, "grace"),
    ],
)
def test_roll_refuses_bad_grace_periods(api: ApiClient, body: dict[str, Any], param: str) -> None:
    token = _signed_up(api, "alice")
    old = _new_key(api, token)
    response = api.request("POST", f"/v1/api_keys/{old['key_id']}/roll", token=token, json=body)
    assert response.status_code == 400 and _error(response)["param"] == param


def test_other_users_keys_are_invisible_and_untouchable(api: ApiClient) -> None:
    alice = _signed_up(api, "alice")
    bob = _signed_up(api, "bob")
    alices = _new_key(api, alice)
    assert api.request("GET", "/v1/api_keys", token=bob).json()["data"] == []
    for action in ("revoke", "roll"):
        response = api.request("POST", f"/v1/api_keys/{alices['key_id']}/{action}", token=bob)
        assert response.status_code == 404 and _error(response)["code"] == "resource_missing"
    assert api.request("GET", "/v1/whoami", token=alices["key"]).status_code == 200


def test_key_management_needs_a_signed_in_user(api: ApiClient) -> None:
    key = _new_key(api, _signed_up(api, "alice"))["key"]
    assert _error(api.request("GET", "/v1/api_keys", token=key))["code"] == "user_token_required"
    assert _error(api.request("GET", "/v1/api_keys"))["code"] == "missing_id_token"
    bad = api.request("GET", "/v1/api_keys", token="not.a.token")
    assert bad.status_code == 401 and _error(bad)["code"] == "invalid_id_token"
    other_project = api.request("GET", "/v1/api_keys", token=api.user_token("alice", aud="demo-elsewhere"))
    assert other_project.status_code == 401


def test_key_creation_requires_an_account(api: ApiClient) -> None:
    response = api.request("POST", "/v1/api_keys", token=api.user_token("ghost"), json={"name": "x"})
    assert response.status_code == 403 and _error(response)["code"] == "account_missing"


@pytest.mark.parametrize(
    ("body", "code", "param"),
    [
        ({"name": "x", "environment": "staging"}, "parameter_invalid", "environment"),
        ({"name": "x", "scopes": []}, "parameter_unknown", "scopes"),
        ({"name": "x" * 101}, "parameter_invalid", "name"),
    ],
)
def test_key_creation_refuses_bad_input(api: ApiClient, body: dict[str, Any], code: str, param: str) -> None:
    response = api.request("POST", "/v1/api_keys", token=_signed_up(api, "alice"), json=body)
    assert response.status_code == 400
    assert _error(response)["code"] == code and _error(response)["param"] == param


def test_malformed_bodies_are_refused(api: ApiClient) -> None:
    token = _signed_up(api, "alice")
    bad_json = api.request(
        "POST", "/v1/api_keys", token=token, data="{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400 and _error(bad_json)["code"] == "invalid_json"
    not_object = api.request("POST", "/v1/api_keys", token=token, json=[1, 2])
    assert not_object.status_code == 400
    wrong_type = api.request(
        "POST",
        "/v1/api_keys",
        token=token,
        data="name=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert wrong_type.status_code == 415 and _error(wrong_type)["code"] == "unsupported_media_type"


def test_maintenance_mode_answers_503_except_health(project: Project, api: ApiClient) -> None:
    token = _signed_up(api, "alice")
    key = _new_key(api, token)["key"]
    seed_system_config()
    config_ref().update({"maintenance_mode": True})
    # The host re-reads the flag at most every 10 s.
    eventually(lambda: api.request("GET", "/v1/whoami", token=key).status_code == 503, timeout=20)
    response = api.request("GET", "/v1/whoami", token=key)
    assert _error(response)["code"] == "maintenance_mode" and _error(response)["type"] == "api_error"
    assert int(response.headers["Retry-After"]) > 0
    assert api.request("GET", "/v1/health").status_code == 200
    config_ref().update({"maintenance_mode": False})
    eventually(lambda: api.request("GET", "/v1/whoami", token=key).status_code == 200, timeout=20)


def test_admin_toggles_maintenance_through_the_api(project: Project, api: ApiClient) -> None:
    token = _signed_up(api, "alice")
    key = _new_key(api, token)["key"]
    admin = api.user_token("root", admin=True)
    assert api.request("PUT", "/v1/admin/maintenance", token=token, json={"enabled": True}).status_code == 403
    on = api.request("PUT", "/v1/admin/maintenance", token=admin, json={"enabled": True})
    assert on.status_code == 200 and on.json()["maintenance_mode"] is True
    # The instance that took the toggle forgets its cached flag at once.
    blocked = api.request("GET", "/v1/whoami", token=key)
    assert blocked.status_code == 503 and _error(blocked)["code"] == "maintenance_mode"
    assert api.request("GET", "/v1/account", token=token).status_code == 503
    stats = api.request("GET", "/v1/admin/stats", token=admin)
    assert stats.status_code == 200 and stats.json()["maintenance_mode"] is True
    assert api.request("GET", "/v1/health").status_code == 200
    off = api.request("PUT", "/v1/admin/maintenance", token=admin, json={"enabled": False})
    assert off.status_code == 200 and off.json()["maintenance_mode"] is False
    assert api.request("GET", "/v1/whoami", token=key).status_code == 200

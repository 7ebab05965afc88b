"""Admin routes through the functions host: counters (stats) and the maintenance switch."""

from __future__ import annotations

from typing import Any

from shared.system.config import config_ref
from tests.support.platform import create_account
from tests.support.waiting import eventually

NO_USAGE = {"requests": 0, "rate_limited": 0, "jobs_created": 0, "credits_spent": 0}


def stats(api: Any, token: str) -> dict[str, Any]:
    response = api.request("GET", "/v1/admin/stats", token=token)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_stats_report_the_counters_to_admins(api: Any) -> None:
    admin = api.user_token("root", admin=True)
    assert stats(api, admin) == {
        "total_users": 0,
        "total_jobs": 0,
        "founding_member_count": 0,
        "maintenance_mode": False,
        "usage": NO_USAGE,
    }
    create_account("alice")
    create_account("bob")
    expected = {
        "total_users": 2,
        "total_jobs": 0,
        "founding_member_count": 2,
        "maintenance_mode": False,
        "usage": NO_USAGE,
    }
    # Counting a user and giving the founding number are two commits: wait for both.
    eventually(lambda: stats(api, admin) == expected)


def test_stats_refuse_non_admins_and_anonymous_callers(api: Any) -> None:
    response = api.request("GET", "/v1/admin/stats", token=api.user_token("alice"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "admin_required"
    response = api.request("GET", "/v1/admin/stats", token=api.user_token("alice", admin=False))
    assert response.status_code == 403
    response = api.request("GET", "/v1/admin/stats")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    response = api.request("PUT", "/v1/admin/maintenance", json={"enabled": True})
    assert response.status_code == 401
    response = api.request(
        "PUT", "/v1/admin/maintenance", token=api.user_token("alice"), json={"enabled": True}
    )
    assert response.status_code == 403


def test_maintenance_toggle_keeps_health_and_admin_working(api: Any) -> None:
    admin = api.user_token("root", admin=True)
    response = api.request("PUT", "/v1/admin/maintenance", token=admin, json={"enabled": True})
    assert response.status_code == 200
    assert response.json() == {"maintenance_mode": True}
    assert (config_ref().get().to_dict() or {})["maintenance_mode"] is True

    assert api.request("GET", "/v1/health").status_code == 200
    assert stats(api, admin)["maintenance_mode"] is True

    response = api.request("PUT", "/v1/admin/maintenance", token=admin, json={"enabled": False})
    assert response.status_code == 200
    assert response.json() == {"maintenance_mode": False}
    assert (config_ref().get().to_dict() or {})["maintenance_mode"] is False
    assert stats(api, admin)["maintenance_mode"] is False


def test_maintenance_body_is_checked(api: Any) -> None:
    admin = api.user_token("root", admin=True)
    cases: list[tuple[Any, str, str | None]] = [
        ({"enabled": True, "reason": "x"}, "parameter_unknown", "reason"),
        ({}, "parameter_missing", "enabled"),
        ({"enabled": "yes"}, "parameter_invalid", "enabled"),
        ({"enabled": 1}, "parameter_invalid", "enabled"),
        ([True], "invalid_request", None),
    ]
    for body, code, param in cases:
        response = api.request("PUT", "/v1/admin/maintenance", token=admin, json=body)
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert (error["code"], error.get("param")) == (code, param), body
    response = api.request("PUT", "/v1/admin/maintenance", token=admin, data="{not json")
    assert response.status_code in (400, 415)
    assert not config_ref().get().exists or (config_ref().get().to_dict() or {})["maintenance_mode"] is False


def test_admins_correct_a_balance_with_adjustments_once_per_key(api: Any) -> None:
    from tests.support.concurrency import run_concurrently
    from tests.support.purchases import assert_ledger_explains, balance

    create_account("alice", credits=0)
    create_account("bob", credits=50)
    admin = api.user_token("root", admin=True)
    path = "/v1/admin/users/alice/credit_adjustments"
    goodwill = {"amount": 500, "reason": "Goodwill credit for the outage"}

    def adjust(body: Any, key: str | None = "adj-1", token: str = admin) -> Any:
        headers = {"Idempotency-Key": key} if key is not None else {}
        return api.request("POST", path, token=token, json=body, headers=headers)

    assert adjust(goodwill, token=api.user_token("alice")).json()["error"]["code"] == "admin_required"
    missing = adjust(goodwill, key=None)
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "Idempotency-Key"
    for bad, param in (
        ({"amount": 0, "reason": "nothing"}, "amount"),
        ({"amount": "5", "reason": "a string"}, "amount"),
        ({"amount": 5, "reason": ""}, "reason"),
        ({"amount": 5, "reason": "   "}, "reason"),
        ({"amount": 5, "reason": "x" * 501}, "reason"),
        ({"amount": 5}, "reason"),
    ):
        refused = adjust(bad)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == param, (bad, refused.text)
    unknown = api.request(
        "POST",
        "/v1/admin/users/nobody/credit_adjustments",
        token=admin,
        json=goodwill,
        headers={"Idempotency-Key": "adj-1"},
    )
    assert unknown.status_code == 404

    replies = run_concurrently(lambda _: adjust(goodwill), 6)
    statuses = sorted(r.status_code for r in replies if not isinstance(r, BaseException))
    assert statuses == [200] * 5 + [201], replies
    entries = {r.json()["entry_id"] for r in replies if not isinstance(r, BaseException)}
    [entry_id] = entries
    first = next(r for r in replies if not isinstance(r, BaseException) and r.status_code == 201).json()
    assert first["type"] == "adjustment" and first["amount"] == 500 and first["balance_after"] == 500
    assert first["description"] == "Goodwill credit for the outage"
    replayed = adjust(goodwill)
    assert replayed.status_code == 200 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == first
    other = adjust({"amount": 400, "reason": "Goodwill credit for the outage"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_in_use"
    assert balance("alice") == 500

    # A negative adjustment may leave a debt.
    taken = adjust({"amount": -700, "reason": "Credits granted twice by mistake"}, key="adj-2")
    assert taken.status_code == 201 and taken.json()["balance_after"] == -200
    assert balance("alice") == -200
    listed = api.request("GET", "/v1/credits/ledger", token=api.user_token("alice")).json()["data"]
    assert [(e["type"], e["amount"], e["description"]) for e in listed] == [
        ("adjustment", -700, "Credits granted twice by mistake"),
        ("adjustment", 500, "Goodwill credit for the outage"),
    ]
    assert listed[1]["entry_id"] == entry_id
    assert_ledger_explains("alice")
    assert balance("bob") == 50
    assert api.request("GET", "/v1/credits/ledger", token=api.user_token("bob")).json()["data"] == []

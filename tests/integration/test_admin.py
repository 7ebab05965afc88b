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

"""Admin overrides of an account's live limits (GET/PATCH /v1/admin/users/{user_id}/limits): only the fields
sent change, null returns one to the default, bad input is a clear 400, an unknown user 404, customers are
refused, and another customer keeps the defaults."""

from __future__ import annotations

from typing import Any

from shared.keys.limits import ACCOUNT_JOBS_IN_FLIGHT, ACCOUNT_RATE_LIMITS
from shared.models import KeyEnvironment
from tests.support.platform import create_account

DEFAULTS = {
    "rate_limit": ACCOUNT_RATE_LIMITS[KeyEnvironment.LIVE],
    "rate_limit_override": None,
    "jobs_in_flight": ACCOUNT_JOBS_IN_FLIGHT[KeyEnvironment.LIVE],
    "jobs_in_flight_override": None,
}


def test_admins_override_an_accounts_limits_field_by_field(api: Any) -> None:
    create_account("alice", credits=0)
    create_account("bob", credits=0)
    admin = api.user_token("root", admin=True)
    path = "/v1/admin/users/alice/limits"

    assert api.request("GET", path, token=admin).json() == {"user_id": "alice", **DEFAULTS}
    raised = api.request("PATCH", path, token=admin, json={"rate_limit": 5000, "jobs_in_flight": 20000})
    assert raised.status_code == 200, raised.text
    assert raised.json() == {
        "user_id": "alice",
        "rate_limit": 5000,
        "rate_limit_override": 5000,
        "jobs_in_flight": 20000,
        "jobs_in_flight_override": 20000,
    }
    # Only the fields sent change; null returns one to the default.
    cleared = api.request("PATCH", path, token=admin, json={"rate_limit": None}).json()
    assert cleared["rate_limit"] == DEFAULTS["rate_limit"] and cleared["rate_limit_override"] is None
    assert cleared["jobs_in_flight"] == 20000
    assert api.request("GET", path, token=admin).json() == cleared
    # Another customer keeps the defaults.
    assert api.request("GET", "/v1/admin/users/bob/limits", token=admin).json() == {
        "user_id": "bob",
        **DEFAULTS,
    }

    for body in ({"rate_limit": 0}, {"rate_limit": 20_001}, {"jobs_in_flight": "9"}, {"other": 1}):
        refused = api.request("PATCH", path, token=admin, json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert refused.json()["error"]["code"] in (
            "parameter_invalid",
            "parameter_missing",
            "parameter_unknown",
        )
    missing = api.request("PATCH", "/v1/admin/users/nobody/limits", token=admin, json={"rate_limit": 5})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "resource_missing"
    customer = api.request("PATCH", path, token=api.user_token("alice"), json={"rate_limit": 5000})
    assert customer.status_code == 403 and customer.json()["error"]["code"] == "admin_required"

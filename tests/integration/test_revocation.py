"""Revocation (finding 3): real users of the Auth emulator. A user who is disabled, deleted or signed out
everywhere (revoke_refresh_tokens) loses their ID-token sessions and their API keys within the revocation
window (USER_STATUS_SECONDS) on the running functions host; another user is untouched throughout."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests
from firebase_admin import auth

from localdev import make_admin
from shared.accounts.auth_users import USER_STATUS_SECONDS
from shared.core.clients import firebase_app
from tests.conftest import Project
from tests.support.auth import SignedInUser, sign_in, sign_up
from tests.support.platform import ApiClient
from tests.support.waiting import eventually

WINDOW = USER_STATUS_SECONDS + 10  # the window, plus slack for a loaded machine


def with_key(api: ApiClient, user: SignedInUser) -> str:
    assert api.request("POST", "/v1/account", token=user.id_token).status_code == 201
    created = api.request(
        "POST", "/v1/api_keys", token=user.id_token, json={"name": "k", "environment": "live"}
    )
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    assert api.request("GET", "/v1/whoami", token=key).status_code == 200
    return key


def refused(call: Callable[[], requests.Response], code: str) -> Callable[[], bool]:
    def check() -> bool:
        response = call()
        assert response.status_code < 500, response.text
        return response.status_code == 401 and response.json()["error"]["code"] == code

    return check


def still_fine(api: ApiClient, user: SignedInUser, key: str) -> None:
    assert api.request("GET", "/v1/whoami", token=key).status_code == 200
    listed = api.request("GET", "/v1/api_keys", token=user.id_token)
    assert listed.status_code == 200 and listed.json()["data"]


def test_a_disabled_users_sessions_and_keys_stop_working(auth_project: Project) -> None:
    api = ApiClient(auth_project.function_url("api"), auth_project.id)
    host = auth_project.stack.auth_host
    alice, bob = sign_up(host), sign_up(host)
    alice_key, bob_key = with_key(api, alice), with_key(api, bob)
    auth.update_user(alice.uid, disabled=True, app=firebase_app())
    new_key = lambda: api.request("POST", "/v1/api_keys", token=alice.id_token, json={"name": "x"})  # noqa: E731
    eventually(refused(new_key, "invalid_id_token"), WINDOW, "disabled user's token refused")
    whoami = lambda: api.request("GET", "/v1/whoami", token=alice_key)  # noqa: E731
    eventually(refused(whoami, "api_key_revoked"), WINDOW, "disabled user's key refused")
    still_fine(api, bob, bob_key)
    auth.update_user(alice.uid, disabled=False, app=firebase_app())
    eventually(lambda: whoami().status_code == 200, WINDOW, "re-enabled user's key works again")


def test_signing_out_everywhere_revokes_the_stolen_token(auth_project: Project) -> None:
    api = ApiClient(auth_project.function_url("api"), auth_project.id)
    host = auth_project.stack.auth_host
    alice, bob = sign_up(host), sign_up(host)
    bob_key = with_key(api, bob)
    assert api.request("POST", "/v1/account", token=alice.id_token).status_code == 201
    # Revocation is to the second (tokens issued before it): let the token's second pass first.
    issued = time.time()
    while time.time() < int(issued) + 1.05:
        time.sleep(0.05)
    auth.revoke_refresh_tokens(alice.uid, app=firebase_app())
    calls = {
        "create key": lambda: api.request("POST", "/v1/api_keys", token=alice.id_token, json={"name": "x"}),
        "rotate": lambda: api.request("POST", "/v1/webhook/rotate_secret", token=alice.id_token),
        "purchase": lambda: api.request("POST", "/v1/purchases", token=alice.id_token, json={"package": "x"}),
        "cards": lambda: api.request("POST", "/v1/payment_methods/setup_intent", token=alice.id_token),
        "admin": lambda: api.request("GET", "/v1/admin/stats", token=alice.id_token),
    }
    for name, call in calls.items():
        eventually(refused(call, "invalid_id_token"), WINDOW, f"revoked token refused on {name}")
    fresh = sign_in(host, alice.email, alice.password)  # signing in again works
    assert api.request("GET", "/v1/api_keys", token=fresh.id_token).status_code == 200
    still_fine(api, bob, bob_key)


def test_a_deleted_users_keys_stop_working(auth_project: Project) -> None:
    api = ApiClient(auth_project.function_url("api"), auth_project.id)
    host = auth_project.stack.auth_host
    alice, bob = sign_up(host), sign_up(host)
    alice_key, bob_key = with_key(api, alice), with_key(api, bob)
    auth.delete_user(alice.uid, app=firebase_app())
    whoami = lambda: api.request("GET", "/v1/whoami", token=alice_key)  # noqa: E731
    eventually(refused(whoami, "api_key_revoked"), WINDOW, "deleted user's key refused")
    account = lambda: api.request("GET", "/v1/account", token=alice.id_token)  # noqa: E731
    eventually(refused(account, "invalid_id_token"), WINDOW, "deleted user's token refused")
    still_fine(api, bob, bob_key)


def test_a_demoted_admin_is_out_within_the_window(auth_project: Project) -> None:
    api = ApiClient(auth_project.function_url("api"), auth_project.id)
    host = auth_project.stack.auth_host
    alice, bob = sign_up(host), sign_up(host)
    bob_key = with_key(api, bob)
    assert make_admin.main([alice.email, "--project", auth_project.id]) == 0
    admin = sign_in(host, alice.email, alice.password)  # the token now carries admin: true
    stats = lambda: api.request("GET", "/v1/admin/stats", token=admin.id_token)  # noqa: E731
    assert stats().status_code == 200
    assert api.request("GET", "/v1/admin/stats", token=bob.id_token).status_code == 403
    # Revocation is to the second (tokens issued before it): let the token's second pass first.
    issued = time.time()
    while time.time() < int(issued) + 1.05:
        time.sleep(0.05)
    assert make_admin.main([alice.email, "--project", auth_project.id, "--revoke"]) == 0
    # The old token still says admin: true, but it was issued before the revocation.
    eventually(refused(stats, "invalid_id_token"), WINDOW, "demoted admin's token refused")
    again = sign_in(host, alice.email, alice.password)
    demoted = api.request("GET", "/v1/admin/stats", token=again.id_token)
    assert demoted.status_code == 403 and demoted.json()["error"]["code"] == "admin_required"
    still_fine(api, bob, bob_key)

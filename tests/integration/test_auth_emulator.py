"""Real sign-in: users signed up in the Firebase Auth emulator call the API with the ID tokens it issues
(verified by firebase-admin as in production); the admin claim set through firebase-admin is honoured."""

from __future__ import annotations

from tests.conftest import Project
from tests.support.auth import make_admin, sign_in, sign_up
from tests.support.platform import ApiClient


def test_real_id_tokens_open_each_users_own_account(auth_project: Project) -> None:
    api = ApiClient(auth_project.function_url("api"), auth_project.id)
    alice = sign_up(auth_project.stack.auth_host)
    bob = sign_up(auth_project.stack.auth_host)
    for user in (alice, bob):
        response = api.request("POST", "/v1/account", token=user.id_token)
        assert response.status_code == 201, response.text
        assert response.json()["user_id"] == user.uid
    # Each token opens only its own account: another customer is present and unaffected.
    assert api.request("GET", "/v1/account", token=bob.id_token).json()["user_id"] == bob.uid
    assert api.request("POST", "/v1/account", token=alice.id_token).status_code == 200


def test_admin_claim_from_firebase_admin_after_signing_in_again(auth_project: Project) -> None:
    api = ApiClient(auth_project.function_url("api"), auth_project.id)
    host = auth_project.stack.auth_host
    user = sign_up(host)
    other = sign_up(host)
    response = api.request("GET", "/v1/admin/stats", token=user.id_token)
    assert response.status_code == 403
    make_admin(auth_project.id, user.uid)
    admin = sign_in(host, user.email, user.password)
    assert api.request("GET", "/v1/admin/stats", token=admin.id_token).status_code == 200
    # The claim belongs to that user only.
    assert api.request("GET", "/v1/admin/stats", token=other.id_token).status_code == 403


def test_tokens_of_another_project_are_refused(auth_project: Project, project: Project) -> None:
    # The emulator's tokens name its own project as audience; another project's API refuses them.
    user = sign_up(auth_project.stack.auth_host)
    api = ApiClient(project.function_url("api"), project.id)
    response = api.request("POST", "/v1/account", token=user.id_token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_id_token"

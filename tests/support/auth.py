"""Real users in the Firebase Auth emulator: sign up / sign in over its REST API (what the JS SDK does) and
get real ID tokens, verified by the API with firebase-admin like production tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import requests

# The emulator accepts any API key; requests made with one act on its default project (Stack.auth_project).
API_KEY = "local-emulator-key"


@dataclass(frozen=True)
class SignedInUser:
    uid: str
    email: str
    password: str
    id_token: str
    refresh_token: str


def _identity_toolkit(auth_host: str, method: str, body: dict[str, object]) -> dict[str, object]:
    response = requests.post(
        f"http://{auth_host}/identitytoolkit.googleapis.com/v1/accounts:{method}?key={API_KEY}",
        json={**body, "returnSecureToken": True},
        timeout=30,
    )
    response.raise_for_status()
    data: dict[str, object] = response.json()
    return data


def _user(data: dict[str, object], email: str, password: str) -> SignedInUser:
    return SignedInUser(
        uid=str(data["localId"]),
        email=email,
        password=password,
        id_token=str(data["idToken"]),
        refresh_token=str(data["refreshToken"]),
    )


def sign_up(auth_host: str, email: str | None = None, password: str | None = None) -> SignedInUser:
    """Create a user with email and password (random when not given); returns it signed in."""
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    password = password or uuid.uuid4().hex
    return _user(
        _identity_toolkit(auth_host, "signUp", {"email": email, "password": password}), email, password
    )


def sign_in(auth_host: str, email: str, password: str) -> SignedInUser:
    """Sign in again: the new ID token carries custom claims set since (e.g. admin)."""
    data = _identity_toolkit(auth_host, "signInWithPassword", {"email": email, "password": password})
    return _user(data, email, password)


def make_admin(project: str, uid: str) -> None:
    """Give a user the `admin` custom claim through firebase-admin, with the server's record of it (as
    `python -m localdev.make_admin`)."""
    from firebase_admin import auth

    from shared.core.clients import firebase_app, project_scope
    from shared.system.admins import grant_admin

    with project_scope(project):
        auth.set_custom_user_claims(uid, {"admin": True}, app=firebase_app())
        grant_admin(uid)

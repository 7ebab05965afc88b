"""Helpers to act on a test project as a client would: HTTP calls with tokens or keys, seeded data."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import requests

from shared.core.clients import firestore_client
from shared.keys.format import generate_api_key, hash_api_key, key_prefix
from shared.models import Account, ApiKey, KeyEnvironment, utc_now
from tests.support.tokens import id_token


@dataclass
class ApiClient:
    """Calls the `api` function through the functions host."""

    base_url: str
    project: str

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        data: bytes | str | None = None,
    ) -> requests.Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        return requests.request(
            method,
            self.base_url + path,
            json=json,
            data=data,
            headers=all_headers,
            timeout=30,
            allow_redirects=False,
        )

    def user_token(self, uid: str, **claims: Any) -> str:
        """An unsigned ID token of `uid`, who is made to exist in the Auth emulator first: the API checks
        every token against the user's record (disabled, deleted, revoked), as in production."""
        ensure_auth_user(self.project, uid)
        return id_token(self.project, uid, **claims)


_known_users: set[tuple[str, str]] = set()


def ensure_auth_user(project: str, uid: str) -> None:
    """Create `uid` in the Auth emulator (firebase-admin, emulator mode) unless it exists. Without an Auth
    emulator (benchmarks) there is nothing to create: the platform then treats users as unknown."""
    if (project, uid) in _known_users:
        return
    from firebase_admin import auth, exceptions

    from shared.core.clients import firebase_app, project_scope

    with project_scope(project):
        try:
            auth.create_user(uid=uid, app=firebase_app())
        except auth.UidAlreadyExistsError:
            pass
        except (exceptions.UnavailableError, exceptions.UnknownError, OSError):
            return  # no Auth emulator running
    _known_users.add((project, uid))


def create_account(user_id: str, credits: int = 0) -> None:
    """Write an account directly (bypasses the API; fires the users trigger like any new user)."""
    account = Account(credits=credits, created_at=utc_now())
    firestore_client().collection(Account.collection).document(user_id).set(account.to_firestore())


def create_api_key(
    user_id: str, environment: str = "live", name: str = "test key", rate_limit: int | None = None
) -> tuple[str, str]:
    """Store a key the way the key service does, for a user who exists in the Auth emulator (keys of
    deleted users are refused); returns (key_id, plaintext)."""
    from shared.core.clients import current_project

    ensure_auth_user(current_project(), user_id)
    plaintext = generate_api_key("live" if environment == "live" else "test")
    key_id = "key_" + secrets.token_hex(8)
    key = ApiKey(
        user_id=user_id,
        name=name,
        environment=KeyEnvironment(environment),
        key_prefix=key_prefix(plaintext),
        key_hash=hash_api_key(plaintext),
        created_at=utc_now(),
        rate_limit=rate_limit,
    )
    firestore_client().collection(ApiKey.collection).document(key_id).set(key.to_firestore())
    return key_id, plaintext

"""Unsigned Firebase ID tokens, accepted by firebase-admin in emulator mode (FIREBASE_AUTH_EMULATOR_HOST)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def id_token(project: str, uid: str, *, email: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "sub": uid,
        "user_id": uid,
        "iat": now,
        "exp": now + 3600,
        "auth_time": now,
        "firebase": {"sign_in_provider": "password", "identities": {}},
        **claims,
    }
    if email:
        payload["email"] = email
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."

"""Who is calling: a signed-in user (Firebase ID token) or an API key. Set on ApiRequest.principal."""

from __future__ import annotations

from dataclasses import dataclass

from shared.models import KeyEnvironment


@dataclass(frozen=True)
class UserPrincipal:
    user_id: str
    admin: bool = False
    email: str | None = None


@dataclass(frozen=True)
class KeyPrincipal:
    user_id: str
    key_id: str
    environment: KeyEnvironment
    rate_limit: int | None = None  # the key's override of the default requests/s

    @property
    def livemode(self) -> bool:
        return self.environment is KeyEnvironment.LIVE


Principal = UserPrincipal | KeyPrincipal

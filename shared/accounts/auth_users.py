"""Firebase Auth user records: is a user disabled or deleted, and since when are their ID tokens valid?

The same check firebase-admin's `verify_id_token(check_revoked=True)` makes (get_user: `disabled`,
`tokens_valid_after_timestamp`), with the record cached per instance for USER_STATUS_SECONDS so a busy user
costs one lookup per window. ID tokens (shared/api/id_tokens.py) and API keys (shared/keys/auth.py) both use
it, so a user who is disabled, deleted or signed out everywhere (revoke_refresh_tokens) loses their sessions
and their keys within that window on every instance.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.core import logs
from shared.core.clients import firebase_app
from shared.core.ttl_cache import TtlCache

USER_STATUS_SECONDS = 10.0  # the revocation window
MAX_USERS = 10_000


@dataclass(frozen=True)
class UserStatus:
    exists: bool
    disabled: bool = False
    tokens_valid_after_s: int = 0  # ID tokens issued (iat) before this second are revoked

    def refuses_token(self, issued_at: int) -> str | None:
        """Why a token issued at `issued_at` (unix s) must be refused, or None."""
        if not self.exists:
            return "the user no longer exists"
        if self.disabled:
            return "the user is disabled"
        if issued_at < self.tokens_valid_after_s:
            return "the session has been revoked"
        return None

    @property
    def active(self) -> bool:
        return self.exists and not self.disabled


# None: Firebase Auth could not be asked. Remembered for the window too, so an outage (or no Auth emulator
# locally) costs one failed lookup per user per window, not one per request.
_statuses: TtlCache[str, UserStatus | None] = TtlCache(USER_STATUS_SECONDS, MAX_USERS)


def user_status(uid: str) -> UserStatus | None:
    """The user's status, or None when Firebase Auth cannot be asked now (callers decide)."""
    return _statuses.get(uid, lambda _previous: _lookup(uid))


def _lookup(uid: str) -> UserStatus | None:
    from firebase_admin import auth, exceptions

    try:
        user = auth.get_user(uid, app=firebase_app())
    except auth.UserNotFoundError:
        return UserStatus(exists=False)
    except (exceptions.FirebaseError, ValueError, OSError) as exc:
        logs.warning("firebase auth user lookup failed", error=type(exc).__name__)
        return None
    valid_after_ms = user.tokens_valid_after_timestamp or 0
    return UserStatus(exists=True, disabled=bool(user.disabled), tokens_valid_after_s=valid_after_ms // 1000)

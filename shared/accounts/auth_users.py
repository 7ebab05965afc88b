"""Firebase Auth user records: is a user disabled or deleted, and since when are their ID tokens valid?

The same check firebase-admin's `verify_id_token(check_revoked=True)` makes (get_user: `disabled`,
`tokens_valid_after_timestamp`), with the record cached per instance for USER_STATUS_SECONDS so a busy user
costs one lookup per window. ID tokens (shared/api/id_tokens.py) and API keys (shared/keys/auth.py) both use
it, so a user who is disabled, deleted or signed out everywhere (revoke_refresh_tokens) loses their sessions
and their keys within that window on every instance.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from shared.core import logs
from shared.core.clients import current_project, firebase_app

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


class UserStatusCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_USERS) -> None:
        self._clock = clock
        self._max = max_entries
        # None: Firebase Auth could not be asked. Remembered for the window too, so an outage (or no Auth
        # emulator locally) costs one failed lookup per user per window, not one per request.
        self._entries: OrderedDict[tuple[str, str], tuple[float, UserStatus | None]] = OrderedDict()
        self._lock = threading.Lock()
        self.lookups = 0

    def get(self, uid: str) -> UserStatus | None:
        """The user's status, or None when Firebase Auth cannot be asked now (callers decide)."""
        slot = (current_project(), uid)
        with self._lock:
            cached = self._entries.get(slot)
            if cached is not None and self._clock() - cached[0] < USER_STATUS_SECONDS:
                return cached[1]
        status = self._lookup(uid)
        with self._lock:
            self._entries[slot] = (self._clock(), status)
            self._entries.move_to_end(slot)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return status

    def _lookup(self, uid: str) -> UserStatus | None:
        from firebase_admin import auth, exceptions

        self.lookups += 1
        try:
            user = auth.get_user(uid, app=firebase_app())
        except auth.UserNotFoundError:
            return UserStatus(exists=False)
        except (exceptions.FirebaseError, ValueError, OSError) as exc:
            logs.warning("firebase auth user lookup failed", error=type(exc).__name__)
            return None
        valid_after_ms = user.tokens_valid_after_timestamp or 0
        return UserStatus(
            exists=True, disabled=bool(user.disabled), tokens_valid_after_s=valid_after_ms // 1000
        )

    def forget(self, uid: str) -> None:
        with self._lock:
            self._entries.pop((current_project(), uid), None)


_cache = UserStatusCache()


def user_status(uid: str) -> UserStatus | None:
    return _cache.get(uid)


def user_status_cache() -> UserStatusCache:
    return _cache

"""Firebase ID token verification (firebase-admin; emulator mode accepts unsigned tokens locally).

Every token is also checked against the user's record, as `verify_id_token(check_revoked=True)` does, with
the record cached for a short window (shared/accounts/auth_users.py): a disabled or deleted user, or one
signed out everywhere (revoke_refresh_tokens), is refused within USER_STATUS_SECONDS. When Firebase Auth
cannot be asked, production refuses the token with 503 (fail closed); local development lets it through
(no Auth emulator running, e.g. benchmarks)."""

from __future__ import annotations

from shared.accounts.auth_users import user_status
from shared.core.clients import firebase_app
from shared.core.errors import ApiError, ErrorCode
from shared.core.principals import UserPrincipal
from shared.core.settings import get_settings


def verify_id_token(token: str) -> UserPrincipal:
    from firebase_admin import auth

    if not token:
        raise ApiError(ErrorCode.INVALID_ID_TOKEN, "The ID token is empty.")
    try:
        claims = auth.verify_id_token(token, app=firebase_app())
    except (ValueError, auth.InvalidIdTokenError, auth.ExpiredIdTokenError, auth.RevokedIdTokenError) as exc:
        raise ApiError(
            ErrorCode.INVALID_ID_TOKEN, f"The ID token is not valid: {type(exc).__name__}."
        ) from None
    except Exception:
        # Malformed tokens raise assorted decoding errors inside the library: still the caller's fault.
        raise ApiError(ErrorCode.INVALID_ID_TOKEN, "The ID token is not valid.") from None
    uid = claims.get("uid") or claims.get("sub")
    if not isinstance(uid, str) or not uid:
        raise ApiError(ErrorCode.INVALID_ID_TOKEN, "The ID token names no user.")
    if len(uid) > 128 or "/" in uid or (uid.startswith("__") and uid.endswith("__")) or uid in (".", ".."):
        # The uid names Firestore documents (users/{uid}); Firebase never issues such ids.
        raise ApiError(ErrorCode.INVALID_ID_TOKEN, "The ID token names an invalid user id.")
    _refuse_revoked(uid, claims.get("iat"))
    email = claims.get("email")
    return UserPrincipal(
        user_id=uid, admin=claims.get("admin") is True, email=email if isinstance(email, str) else None
    )


def _refuse_revoked(uid: str, issued_at: object) -> None:
    if not isinstance(issued_at, int | float):
        raise ApiError(ErrorCode.INVALID_ID_TOKEN, "The ID token has no issue time.")
    status = user_status(uid)
    if status is None:
        if get_settings().is_production:
            raise ApiError(
                ErrorCode.SERVICE_UNAVAILABLE, "Your session cannot be checked right now; retry shortly."
            )
        return
    reason = status.refuses_token(int(issued_at))
    if reason is not None:
        raise ApiError(ErrorCode.INVALID_ID_TOKEN, f"The ID token is not valid: {reason}.")

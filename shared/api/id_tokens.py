"""Firebase ID token verification (firebase-admin; emulator mode accepts unsigned tokens locally)."""

from __future__ import annotations

from shared.core.clients import firebase_app
from shared.core.errors import ApiError, ErrorCode
from shared.core.principals import UserPrincipal


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
    email = claims.get("email")
    return UserPrincipal(
        user_id=uid, admin=claims.get("admin") is True, email=email if isinstance(email, str) else None
    )

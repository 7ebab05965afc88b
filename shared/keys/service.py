"""API key lifecycle: create (plaintext shown once), list, revoke, roll. Only the SHA-256 hash is stored."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.accounts.service import get_account
from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode, not_found
from shared.core.pagination import PageParams, list_page
from shared.core.retry import RETRYABLE_COMMIT_ERRORS
from shared.keys.format import generate_api_key, hash_api_key, key_prefix
from shared.keys.limits import DEFAULT_JOBS_IN_FLIGHT, DEFAULT_RATE_LIMITS, key_rate_limit
from shared.models import ApiKey, ApiKeyStatus, KeyEnvironment, utc_now

MAX_KEYS_PER_USER = 100
MAX_ROLL_GRACE_SECONDS = 7 * 24 * 3600


ADMIN_KEY_PATH = "PATCH /v1/admin/api_keys/{key_id}"


def refuse_raised_limit(
    environment: KeyEnvironment, rate_limit: int | None, current: int | None = None
) -> None:
    """Customers may lower a key's limit, never raise it past the default of its environment or what it
    already has (an administrator's grant): 403 `admin_required` saying how to ask. None (the default)
    is always allowed."""
    if rate_limit is None:
        return
    default = DEFAULT_RATE_LIMITS[environment]
    allowed = max(default, current if current is not None else default)
    if rate_limit > allowed:
        raise ApiError(
            ErrorCode.ADMIN_REQUIRED,
            f"A {environment.value} key may make at most {allowed} requests/s unless an administrator "
            f"raises it: ask support with the key's id (they use {ADMIN_KEY_PATH}). "
            f"Any value up to {allowed} is yours to set.",
            param="rate_limit",
        )


def new_key_id() -> str:
    return "key_" + secrets.token_hex(12)


def effective_status(key: ApiKey, now: datetime | None = None) -> str:
    if key.status is ApiKeyStatus.REVOKED:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= (now or utc_now()):
        return "expired"
    return "active"


def key_resource(key_id: str, key: ApiKey, plaintext: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "key_id": key_id,
        "name": key.name,
        "environment": key.environment.value,
        "livemode": key.environment is KeyEnvironment.LIVE,
        "key_prefix": key.key_prefix,
        "status": effective_status(key),
        "created_at": key.created_at,
        "last_used_at": key.last_used_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "rolled_to_key_id": key.rolled_to_key_id,
        "rate_limit": key_rate_limit(key.environment, key.rate_limit),
        "rate_limit_override": key.rate_limit,
        "max_jobs_in_flight": DEFAULT_JOBS_IN_FLIGHT[key.environment],
    }
    if plaintext is not None:
        resource["key"] = plaintext  # shown once, never stored
    return resource


def _collection() -> firestore.CollectionReference:
    return firestore_client().collection(ApiKey.collection)


def _new_key(
    user_id: str, name: str, environment: KeyEnvironment, rate_limit: int | None = None
) -> tuple[str, str, ApiKey]:
    plaintext = generate_api_key(environment.value)
    key = ApiKey(
        user_id=user_id,
        name=name,
        environment=environment,
        key_prefix=key_prefix(plaintext),
        key_hash=hash_api_key(plaintext),
        created_at=utc_now(),
        rate_limit=rate_limit,
    )
    return new_key_id(), plaintext, key


def list_keys_page(user_id: str, params: PageParams) -> dict[str, Any]:
    """The caller's keys, newest first, paged in the query: a user may hold any number of revoked and expired
    keys, so no fixed bound can hold them all (an unordered bounded read once hid active keys)."""
    # Index: user_id ASC, created_at DESC, __name__ DESC (firestore.indexes.json).
    query = (
        _collection()
        .where(filter=FieldFilter("user_id", "==", user_id))
        .order_by("created_at", direction=firestore.Query.DESCENDING)
        .order_by("__name__", direction=firestore.Query.DESCENDING)
    )

    def cursor(key_id: str) -> Any:
        snapshot = _collection().document(key_id).get()
        if not snapshot.exists or (snapshot.to_dict() or {}).get("user_id") != user_id:
            return None
        return snapshot

    def render(snapshot: Any) -> dict[str, Any]:
        return key_resource(snapshot.id, ApiKey.from_firestore(snapshot.to_dict()))

    return list_page(query, params, cursor, render)


def count_active_keys(user_id: str, now: datetime | None = None) -> int:
    """Keys that authenticate now: stored active, minus those whose roll grace period is over. Two count
    aggregations, exact whatever the number of revoked or expired keys."""
    now = now or utc_now()
    active = (
        _collection()
        .where(filter=FieldFilter("user_id", "==", user_id))
        .where(filter=FieldFilter("status", "==", ApiKeyStatus.ACTIVE.value))
    )
    # Index: user_id ASC, status ASC, expires_at ASC (firestore.indexes.json).
    expired = active.where(filter=FieldFilter("expires_at", "<=", now))
    return _count(active) - _count(expired)


def _count(query: Any) -> int:
    return int(query.count().get()[0][0].value)


def refuse_over_key_cap(user_id: str) -> None:
    """400 when one more key would authenticate past the cap (create, or a roll whose old key stays)."""
    if count_active_keys(user_id) >= MAX_KEYS_PER_USER:
        raise ApiError(
            ErrorCode.INVALID_REQUEST, f"At most {MAX_KEYS_PER_USER} active keys; revoke some first."
        )


def create_key(
    user_id: str, name: str, environment: KeyEnvironment, rate_limit: int | None = None
) -> tuple[str, str, ApiKey]:
    get_account(user_id)
    refuse_raised_limit(environment, rate_limit)
    refuse_over_key_cap(user_id)
    key_id, plaintext, key = _new_key(user_id, name, environment, rate_limit)
    _collection().document(key_id).create(key.to_firestore())
    return key_id, plaintext, key


def _own_key(user_id: str, key_id: str) -> tuple[Any, ApiKey]:
    snapshot = _collection().document(key_id).get()
    if not snapshot.exists:
        raise not_found("API key", "key_id")
    key = ApiKey.from_firestore(snapshot.to_dict())
    if key.user_id != user_id:
        raise not_found("API key", "key_id")  # another user's key is indistinguishable from none
    return snapshot, key


def revoke_key(user_id: str, key_id: str) -> ApiKey:
    """Idempotent: revoking a revoked key answers it unchanged."""
    snapshot, key = _own_key(user_id, key_id)
    if key.status is ApiKeyStatus.REVOKED:
        return key
    now = utc_now()
    snapshot.reference.update({"status": ApiKeyStatus.REVOKED.value, "revoked_at": now})
    from shared.keys.auth import forget_key

    forget_key(key.key_hash)
    return key.model_copy(update={"status": ApiKeyStatus.REVOKED, "revoked_at": now})


def roll_key(
    user_id: str, key_id: str, expires_in: int, rate_limit: int | None = None
) -> tuple[str, str, ApiKey, ApiKey]:
    """New key with the same name, environment and rate limit (or `rate_limit` when given); the old one
    works for `expires_in` more seconds. A roll with a grace period adds an active key, so it counts
    against the cap like a creation (a roll with none replaces the old key at once).
    One batch with an update-time precondition: two concurrent rolls of one key make one new key."""
    if not 0 <= expires_in <= MAX_ROLL_GRACE_SECONDS:
        raise ApiError(
            ErrorCode.PARAMETER_INVALID, "expires_in must be 0..604800 seconds.", param="expires_in"
        )
    snapshot, old = _own_key(user_id, key_id)
    if effective_status(old) != "active":
        raise ApiError(
            ErrorCode.ILLEGAL_STATE_TRANSITION,
            f"Only active keys can be rolled; this one is {effective_status(old)}.",
        )
    if old.rolled_to_key_id is not None:
        raise ApiError(ErrorCode.ILLEGAL_STATE_TRANSITION, "This key was already rolled.")
    refuse_raised_limit(old.environment, rate_limit, key_rate_limit(old.environment, old.rate_limit))
    if expires_in > 0:
        refuse_over_key_cap(user_id)
    new_id, plaintext, new_key = _new_key(
        user_id, old.name, old.environment, rate_limit if rate_limit is not None else old.rate_limit
    )
    expires_at = utc_now() + timedelta(seconds=expires_in)
    db = firestore_client()
    batch = db.batch()
    batch.create(_collection().document(new_id), new_key.to_firestore())
    batch.update(
        snapshot.reference,
        {"expires_at": expires_at, "rolled_to_key_id": new_id},
        option=db.write_option(last_update_time=snapshot.update_time),
    )
    try:
        batch.commit()
    except RETRYABLE_COMMIT_ERRORS:
        raise ApiError(
            ErrorCode.ILLEGAL_STATE_TRANSITION, "The key changed while rolling it; look at it again."
        ) from None
    from shared.keys.auth import forget_key

    forget_key(old.key_hash)
    rolled = old.model_copy(update={"expires_at": expires_at, "rolled_to_key_id": new_id})
    return new_id, plaintext, new_key, rolled


def update_key(user_id: str, key_id: str, changes: dict[str, Any]) -> ApiKey:
    """Change a key's name and/or rate limit (None resets it to the default). Other instances see the new
    limit within the key cache's revalidation time (5 s); this one at once."""
    snapshot, key = _own_key(user_id, key_id)
    if "rate_limit" in changes:
        refuse_raised_limit(
            key.environment, changes["rate_limit"], key_rate_limit(key.environment, key.rate_limit)
        )
    return _apply(snapshot, key, changes)


def _apply(snapshot: Any, key: ApiKey, changes: dict[str, Any]) -> ApiKey:
    if not changes:
        return key
    snapshot.reference.update(changes)
    from shared.keys.auth import forget_key

    forget_key(key.key_hash)
    return key.model_copy(update=changes)


def admin_set_rate_limit(key_id: str, rate_limit: int | None) -> tuple[ApiKey, str]:
    """An administrator sets any key's limit (1..MAX_RATE_LIMIT, or None for the default); the customer
    may lower it afterwards but not raise it again past this value. Returns the key and its id."""
    snapshot = _collection().document(key_id).get()
    if not snapshot.exists:
        raise not_found("API key", "key_id")
    key = ApiKey.from_firestore(snapshot.to_dict())
    return _apply(snapshot, key, {"rate_limit": rate_limit}), key_id


def require_own_key(user_id: str, key_id: str) -> ApiKey:
    """The caller's key, or 404 naming `key_id` (another user's key is indistinguishable from none)."""
    return _own_key(user_id, key_id)[1]

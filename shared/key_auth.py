"""API key authentication: checksum first (no database read for typos), then one indexed hash lookup."""

from __future__ import annotations

from shared.api_key_format import hash_api_key, parse_api_key
from shared.clients import firestore_client
from shared.errors import ApiError
from shared.models import ApiKey, ApiKeyStatus, KeyEnvironment, utc_now
from shared.principals import KeyPrincipal


def authenticate_api_key(token: str) -> KeyPrincipal:
    parsed = parse_api_key(token)
    if parsed is None:
        raise ApiError("invalid_api_key", "Invalid API key provided.")
    key_hash = hash_api_key(parsed.key)
    query = firestore_client().collection(ApiKey.collection).where("key_hash", "==", key_hash).limit(1)
    found = list(query.stream())
    if not found:
        raise ApiError("invalid_api_key", "Invalid API key provided.")
    key = ApiKey.from_firestore(found[0].to_dict())
    if key.status is ApiKeyStatus.REVOKED:
        raise ApiError("api_key_revoked", "This API key has been revoked.")
    if key.expires_at is not None and key.expires_at <= utc_now():
        raise ApiError("api_key_expired", "This API key has expired.")
    if key.environment is not KeyEnvironment(parsed.environment):
        raise ApiError("invalid_api_key", "Invalid API key provided.")
    return KeyPrincipal(user_id=key.user_id, key_id=found[0].id, environment=key.environment)

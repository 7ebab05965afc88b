"""GET /v1/api_keys pages every key in order, and the 100-active-keys cap counts exactly the keys that
authenticate (finding 6: an unordered read of 150 keys once hid active ones from both). Another user's keys
are present throughout."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from shared.core.clients import firestore_client
from shared.keys.format import generate_api_key, hash_api_key, key_prefix
from shared.keys.service import MAX_KEYS_PER_USER
from shared.models import ApiKey, ApiKeyStatus, KeyEnvironment, utc_now
from tests.support.platform import ApiClient, create_account

USER = "user_many_keys"
OTHER = "user_many_keys_other"


def store_keys(
    user_id: str, count: int, *, revoked: bool = False, expired: bool = False, age_s: int = 0
) -> list[str]:
    """Write keys straight to Firestore in batches (the API would take minutes for hundreds)."""
    db = firestore_client()
    now = utc_now()
    ids: list[str] = []
    batch = db.batch()
    for index in range(count):
        plaintext = generate_api_key("live")
        key = ApiKey(
            user_id=user_id,
            name=f"k{index}",
            environment=KeyEnvironment.LIVE,
            key_prefix=key_prefix(plaintext),
            key_hash=hash_api_key(plaintext),
            status=ApiKeyStatus.REVOKED if revoked else ApiKeyStatus.ACTIVE,
            revoked_at=now if revoked else None,
            expires_at=now - timedelta(hours=1) if expired else None,
            created_at=now - timedelta(seconds=age_s + index),
        )
        key_id = "key_" + secrets.token_hex(12)
        batch.set(db.collection(ApiKey.collection).document(key_id), key.to_firestore())
        ids.append(key_id)
        if len(ids) % 400 == 0:
            batch.commit()
            batch = db.batch()
    batch.commit()
    return ids


def all_pages(api: ApiClient, token: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = []
    query = "?limit=100"
    for _ in range(10):
        response = api.request("GET", f"/v1/api_keys{query}", token=token)
        assert response.status_code == 200, response.text
        body = response.json()
        listed += body["data"]
        if not body["has_more"]:
            return listed
        query = f"?limit=100&starting_after={body['next_cursor']}"
    raise AssertionError("more pages than keys")


def test_every_key_is_listed_newest_first_across_pages(api: ApiClient) -> None:
    # 150 newer revoked keys in front of 10 older active ones: the active ones must still be listed.
    active = store_keys(USER, 10, age_s=10_000)
    revoked = store_keys(USER, 150, revoked=True)
    store_keys(OTHER, 20)
    listed = all_pages(api, api.user_token(USER))
    assert len(listed) == 160 and {k["key_id"] for k in listed} == set(active) | set(revoked)
    created = [k["created_at"] for k in listed]
    assert created == sorted(created, reverse=True)
    assert [k["status"] for k in listed].count("active") == 10
    foreign = api.request(
        "GET", f"/v1/api_keys?starting_after={store_keys(OTHER, 1)[0]}", token=api.user_token(USER)
    )
    assert foreign.status_code == 400


def test_the_active_key_cap_counts_only_keys_that_authenticate(api: ApiClient) -> None:
    create_account(USER)
    token = api.user_token(USER)
    store_keys(USER, 150, revoked=True)
    store_keys(USER, 5, expired=True)  # rolled keys past their grace period: active in storage, not in use
    store_keys(USER, MAX_KEYS_PER_USER - 1, age_s=10_000)
    store_keys(OTHER, MAX_KEYS_PER_USER)  # another user's keys count for them only
    last = api.request("POST", "/v1/api_keys", token=token, json={"name": "the 100th"})
    assert last.status_code == 201, last.text
    refused = api.request("POST", "/v1/api_keys", token=token, json={"name": "one too many"})
    assert refused.status_code == 400 and "100 active keys" in refused.json()["error"]["message"]
    create_account(OTHER)
    other = api.request("POST", "/v1/api_keys", token=api.user_token(OTHER), json={"name": "x"})
    assert other.status_code == 400  # OTHER already holds 100 active keys


def test_a_roll_that_keeps_the_old_key_counts_against_the_cap(api: ApiClient) -> None:
    # Rolling with a grace period once made 100 keys 200: the old key authenticates until it expires.
    create_account(USER)
    create_account(OTHER)
    token = api.user_token(USER)
    store_keys(USER, MAX_KEYS_PER_USER - 1, age_s=10_000)
    last = api.request("POST", "/v1/api_keys", token=token, json={"name": "the 100th"})
    assert last.status_code == 201, last.text
    path = f"/v1/api_keys/{last.json()['key_id']}/roll"
    refused = api.request("POST", path, token=token, json={"expires_in": 3600})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "invalid_request"
    assert "100 active keys" in refused.json()["error"]["message"]
    # Nothing changed: the old key was not rolled, so a roll without grace (a swap) still works.
    swapped = api.request("POST", path, token=token, json={"expires_in": 0})
    assert swapped.status_code == 201, swapped.text
    # The other customer, far from the cap, rolls with a grace period.
    other_token = api.user_token(OTHER)
    other = api.request("POST", "/v1/api_keys", token=other_token, json={"name": "x"}).json()
    rolled = api.request(
        "POST", f"/v1/api_keys/{other['key_id']}/roll", token=other_token, json={"expires_in": 3600}
    )
    assert rolled.status_code == 201, rolled.text

"""API key authentication with a per-instance cache.

- A mistyped key fails its checksum and is refused with no database read.
- A known key is looked up once (one indexed query on `key_hash`) and then served from memory: a warm key
  costs no read. Entries are re-read (by document id) when older than REVALIDATE_SECONDS, so a revocation
  made on any instance is refused everywhere within 5 s; revoking on this instance evicts at once.
- Loads are single-flight per key: a burst of concurrent requests for a cold key makes one read.
- Unknown keys (checksum-valid, but no such key) are remembered in a separate bounded map for
  NEGATIVE_SECONDS: a flood of random keys costs one read per key per window, and since misses never enter
  the known keys' LRU they can never evict a real key.
- The key's owner must be an active Firebase Auth user (shared/accounts/auth_users.py, cached for its
  window): disabling or deleting a user stops their keys within USER_STATUS_SECONDS.
- `last_used_at` is written at most once a minute per key across all instances: the write carries the
  update-time precondition of the snapshot it was decided on, so of several instances deciding at once only
  one succeeds; the others re-read and see a fresh value.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from google.api_core.exceptions import FailedPrecondition, GoogleAPIError, NotFound
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.accounts.auth_users import user_status
from shared.core import logs
from shared.core.clients import firestore_client
from shared.core.errors import ApiError, ErrorCode
from shared.core.principals import KeyPrincipal
from shared.core.ttl_cache import TtlCache
from shared.keys.format import hash_api_key, parse_api_key
from shared.models import ApiKey, ApiKeyStatus, KeyEnvironment, utc_now

REVALIDATE_SECONDS = 5.0
LAST_USED_RESOLUTION = timedelta(seconds=60)
MAX_ENTRIES = 10_000
NEGATIVE_SECONDS = 5.0  # a key created elsewhere is not used before it is shown, so this delays nobody
MAX_NEGATIVE_ENTRIES = 10_000


@dataclass
class CachedKey:
    key_id: str | None  # None: no key has this hash (a negative entry)
    key: ApiKey | None
    update_time: datetime | None
    touch_lock: threading.Lock = field(default_factory=threading.Lock)


_MISSING = CachedKey(None, None, None)


class KeyCache:
    """Verified keys, keyed by key hash (shared/core/ttl_cache.py): known keys and misses in two caches,
    so a flood of unknown keys never pushes a known one out."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_ENTRIES,
        max_negative: int = MAX_NEGATIVE_ENTRIES,
    ) -> None:
        self._known: TtlCache[str, CachedKey] = TtlCache(REVALIDATE_SECONDS, max_entries, clock)
        self._missing: TtlCache[str, bool] = TtlCache(NEGATIVE_SECONDS, max_negative, clock)
        self.writes = 0  # last_used_at writes tried (tests and benchmarks count them)
        self.touches = 0  # of those, writes that succeeded
        self._refreshes = 0

    @property
    def reads(self) -> int:
        """Database reads made through this cache."""
        return self._known.loads + self._refreshes

    def get(self, key_hash: str, before_lookup: Callable[[], None] | None = None) -> CachedKey:
        """`before_lookup` runs before a query by hash (a key this instance does not know): the caller's
        chance to refuse it (the per-address limit) before it costs a read."""
        if self._missing.fresh(key_hash):
            return _MISSING

        def load(stale: CachedKey | None) -> CachedKey:
            if stale is None and before_lookup is not None:
                before_lookup()
            return _load(key_hash, stale.key_id if stale else None)

        entry = self._known.get(key_hash, load, keep=lambda loaded: loaded.key is not None)
        if entry.key is None:  # no such key (or deleted since it was cached): remembered apart
            self._missing.put(key_hash, True)
        return entry

    def forget(self, key_hash: str) -> None:
        self._known.forget(key_hash)
        self._missing.forget(key_hash)

    def known_count(self) -> int:
        """Known keys held (misses are not counted: they live apart)."""
        return len(self._known)

    def holds(self, key_hash: str) -> bool:
        return self._known.holds(key_hash)

    def refresh(self, key_hash: str, entry: CachedKey) -> None:
        fresh = _load(key_hash, entry.key_id)
        self._refreshes += 1
        if fresh.key is not None:
            # Requests already holding `entry` must see what was read too, or they would write again
            # under the stale update time. (Called with entry.touch_lock held by _touch.)
            entry.key, entry.update_time = fresh.key, fresh.update_time
            self._known.put(key_hash, fresh)
        else:
            self.forget(key_hash)
            self._missing.put(key_hash, True)


def _load(key_hash: str, known_id: str | None) -> CachedKey:
    """The key by its id when known (a revalidation), else by its hash (one indexed query)."""
    collection = firestore_client().collection(ApiKey.collection)
    if known_id is not None:
        snapshot = collection.document(known_id).get()
        snapshots = [snapshot] if snapshot.exists else []
    else:
        snapshots = list(collection.where(filter=FieldFilter("key_hash", "==", key_hash)).limit(1).stream())
    if not snapshots:
        return _MISSING
    snapshot = snapshots[0]
    return CachedKey(snapshot.id, ApiKey.from_firestore(snapshot.to_dict()), snapshot.update_time)


_cache = KeyCache()


def forget_key(key_hash: str) -> None:
    _cache.forget(key_hash)


def authenticate_api_key(
    token: str, cache: KeyCache | None = None, before_lookup: Callable[[], None] | None = None
) -> KeyPrincipal:
    """`cache` defaults to this instance's; tests pass several to play several instances. `before_lookup`
    runs before a key this instance does not know costs a query (KeyCache.get)."""
    cache = cache if cache is not None else _cache
    parsed = parse_api_key(token)
    if parsed is None:
        raise ApiError(ErrorCode.INVALID_API_KEY, "Invalid API key provided.")
    key_hash = hash_api_key(parsed.key)
    entry = cache.get(key_hash, before_lookup)
    key = entry.key
    if key is None or entry.key_id is None or key.key_hash != key_hash:
        raise ApiError(ErrorCode.INVALID_API_KEY, "Invalid API key provided.")
    if key.environment is not KeyEnvironment(parsed.environment):
        raise ApiError(ErrorCode.INVALID_API_KEY, "Invalid API key provided.")
    if key.status is ApiKeyStatus.REVOKED:
        raise ApiError(ErrorCode.API_KEY_REVOKED, "This API key has been revoked.")
    now = utc_now()
    if key.expires_at is not None and key.expires_at <= now:
        raise ApiError(ErrorCode.API_KEY_EXPIRED, "This API key has expired.")
    owner = user_status(key.user_id)
    # Unknown (Firebase Auth unreachable) lets the key through: a key is a long-lived server credential
    # and an Auth outage must not stop every customer's traffic; the lookup failure is logged.
    if owner is not None and not owner.active:
        raise ApiError(ErrorCode.API_KEY_REVOKED, "This API key's owner is disabled or deleted.")
    _touch(cache, key_hash, entry, now)
    return KeyPrincipal(
        user_id=key.user_id, key_id=entry.key_id, environment=key.environment, rate_limit=key.rate_limit
    )


# Someone wrote first, or the key vanished: re-read. (An aborted commit, contention with another instance's
# write, is handled like any other failed write below: this instance waits a minute.)
LOST_TOUCH_ERRORS: tuple[type[Exception], ...] = (FailedPrecondition, NotFound)


def _touch(cache: KeyCache, key_hash: str, entry: CachedKey, now: datetime) -> None:
    """Keep last_used_at current to the minute with at most one write per key per minute."""
    key = entry.key
    assert key is not None and entry.key_id is not None
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    if not entry.touch_lock.acquire(blocking=False):
        return  # another request of this instance is writing it
    try:
        key = entry.key  # again, under the lock: a refresh or a write may have changed it meanwhile
        assert key is not None
        if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
            return
        db = firestore_client()
        ref = db.collection(ApiKey.collection).document(entry.key_id)
        cache.writes += 1
        try:
            result = ref.update(
                {"last_used_at": now}, option=db.write_option(last_update_time=entry.update_time)
            )
        except LOST_TOUCH_ERRORS:
            try:
                cache.refresh(key_hash, entry)  # someone else wrote (or revoked): take their version
            except GoogleAPIError as exc:
                logs.warning("api key refresh after a lost touch failed", error=type(exc).__name__)
            return
        except GoogleAPIError as exc:
            # Best effort: the key is already verified. A transient error on this throttled bookkeeping
            # write must not fail the caller's request; the next request a minute on writes it again.
            logs.warning("api key last_used_at write failed", error=type(exc).__name__)
            # This instance waits a minute before trying again (the stored update time is unchanged, so a
            # write then still carries the precondition of the version it read).
            entry.key = key.model_copy(update={"last_used_at": now})
            return
        cache.touches += 1
        entry.key = key.model_copy(update={"last_used_at": now})
        entry.update_time = result.update_time
    finally:
        entry.touch_lock.release()

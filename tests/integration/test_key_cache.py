"""The per-instance key cache against the emulator: several KeyCache objects play several instances, with a
controllable clock so the revalidation window is tested without waiting for it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.core.clients import firestore_client
from shared.core.errors import ApiError
from shared.keys.auth import NEGATIVE_SECONDS, REVALIDATE_SECONDS, KeyCache, authenticate_api_key
from shared.keys.format import generate_api_key, hash_api_key
from shared.keys.service import revoke_key
from shared.models import ApiKey, utc_now
from tests.conftest import Project
from tests.support.concurrency import run_concurrently
from tests.support.platform import create_account, create_api_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _stored(key_id: str) -> ApiKey:
    return ApiKey.from_firestore(firestore_client().collection("api_keys").document(key_id).get().to_dict())


def test_warm_key_costs_no_read(project: Project) -> None:
    create_account("alice")
    _, key = create_api_key("alice")
    cache = KeyCache(clock=Clock())
    for _ in range(50):
        assert authenticate_api_key(key, cache).user_id == "alice"
    assert cache.reads == 1


def test_cold_burst_makes_one_read(project: Project) -> None:
    create_account("alice")
    _, key = create_api_key("alice")
    cache = KeyCache(clock=Clock())
    principals = run_concurrently(lambda _: authenticate_api_key(key, cache), 64)
    assert {getattr(p, "user_id", p) for p in principals} == {"alice"}
    assert cache.reads == 1


def test_revocation_reaches_another_instance_within_the_window(project: Project) -> None:
    create_account("alice")
    key_id, key = create_api_key("alice")
    clock = Clock()
    other_instance = KeyCache(clock=clock)
    authenticate_api_key(key, other_instance)
    revoke_key("alice", key_id)  # on "this" instance
    authenticate_api_key(key, other_instance)  # still warm there, within the window
    clock.now += REVALIDATE_SECONDS
    assert REVALIDATE_SECONDS < 10
    with pytest.raises(ApiError) as caught:
        authenticate_api_key(key, other_instance)
    assert caught.value.code == "api_key_revoked"


def test_checksum_failure_reads_nothing(project: Project) -> None:
    cache = KeyCache(clock=Clock())
    with pytest.raises(ApiError):
        authenticate_api_key("sk_live_" + "x" * 38, cache)
    assert cache.reads == 0


def test_last_used_at_is_written_once_a_minute_across_instances(project: Project) -> None:
    create_account("alice")
    key_id, key = create_api_key("alice")
    assert _stored(key_id).last_used_at is None
    clock = Clock()
    instances = [KeyCache(clock=clock) for _ in range(4)]
    results = run_concurrently(lambda i: authenticate_api_key(key, instances[i % 4]), 400, workers=16)
    assert not [r for r in results if isinstance(r, BaseException)]
    first = _stored(key_id).last_used_at
    assert first is not None and utc_now() - first < timedelta(seconds=30)
    update_time = firestore_client().collection("api_keys").document(key_id).get().update_time
    # Instances that decided at once on the unused key: one write succeeded, the others failed their
    # precondition and re-read; in all, at most one write per instance was even attempted.
    assert sum(c.touches for c in instances) == 1
    assert sum(c.writes for c in instances) <= len(instances)
    # More traffic within the minute writes nothing more.
    run_concurrently(lambda i: authenticate_api_key(key, instances[i % 4]), 400, workers=16)
    assert firestore_client().collection("api_keys").document(key_id).get().update_time == update_time


def test_a_flood_of_unknown_keys_costs_one_read_each_per_window_and_evicts_no_known_key(
    project: Project,
) -> None:
    create_account("alice")
    create_account("bob")
    known = [create_api_key(user)[1] for user in ("alice", "bob", "alice")]
    clock = Clock()
    cache = KeyCache(clock=clock, max_entries=len(known))
    for key in known:
        authenticate_api_key(key, cache)
    flood = [generate_api_key("live") for _ in range(100)]
    for _ in range(3):  # repeated within the window: the misses are remembered
        for key in flood:
            with pytest.raises(ApiError) as caught:
                authenticate_api_key(key, cache)
            assert caught.value.code == "invalid_api_key"
    assert cache.reads == len(known) + len(flood)
    assert cache.known_count() == len(known)
    assert all(cache.holds(hash_api_key(key)) for key in known)
    before = cache.reads
    for key in known:  # still warm: no read
        authenticate_api_key(key, cache)
    assert cache.reads == before
    clock.now += NEGATIVE_SECONDS
    for key in flood[:10]:  # the window is over: one read each again
        with pytest.raises(ApiError):
            authenticate_api_key(key, cache)
    assert cache.reads == before + 10


def test_a_failing_last_used_at_write_does_not_fail_the_request(project: Project) -> None:
    """The throttled bookkeeping write is best effort (finding 10): when Firestore refuses it with anything
    but a lost precondition, the verified key still authenticates. The refusal is real: the emulator
    answers INVALID_ARGUMENT for a reserved document id, put in the cached entry for this purpose."""
    create_account("alice")
    create_account("bob")
    _, key = create_api_key("alice")
    cache = KeyCache(clock=Clock())
    entry = cache.get(hash_api_key(key))
    assert entry.key is not None and entry.key.last_used_at is None
    entry.key_id = "__reserved__"
    principal = authenticate_api_key(key, cache)
    assert principal.user_id == "alice"
    assert cache.touches == 0 and cache.writes == 1

"""The one per-instance cache (shared/core/ttl_cache.py): time to live, single-flight loads, LRU bound,
refused values, one cache per project."""

from __future__ import annotations

import threading

from shared.core.clients import project_scope
from shared.core.ttl_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_served_for_its_time_to_live_then_loaded_again_from_the_previous() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(5.0, clock=clock)
    seen: list[int | None] = []

    def load(previous: int | None) -> int:
        seen.append(previous)
        return (previous or 0) + 1

    assert cache.get("k", load) == 1
    clock.now += 4.9
    assert cache.get("k", load) == 1
    clock.now += 0.1
    assert cache.get("k", load) == 2
    assert seen == [None, 1] and cache.loads == 2


def test_concurrent_gets_of_a_cold_key_load_once() -> None:
    cache: TtlCache[str, int] = TtlCache(5.0)
    started, release = threading.Event(), threading.Event()

    def slow_load(previous: int | None) -> int:
        started.set()
        release.wait(5)
        return 7

    results: list[int] = []
    first = threading.Thread(target=lambda: results.append(cache.get("k", slow_load)))
    first.start()
    started.wait(5)
    others = [threading.Thread(target=lambda: results.append(cache.get("k", slow_load))) for _ in range(5)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(5)
    assert results == [7] * 6 and cache.loads == 1


def test_the_least_recently_used_entry_goes_first_and_refused_values_are_not_kept() -> None:
    cache: TtlCache[str, int] = TtlCache(60.0, max_entries=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.fresh("a") == 1  # a is now the most recently used
    cache.put("c", 3)
    assert (cache.holds("a"), cache.holds("b"), cache.holds("c")) == (True, False, True)
    assert cache.get("d", lambda _: 0, keep=lambda value: value > 0) == 0
    assert not cache.holds("d") and len(cache) == 2


def test_each_project_has_its_own_values() -> None:
    cache: TtlCache[str, str] = TtlCache(60.0)
    with project_scope("demo-one"):
        cache.put("k", "one")
    with project_scope("demo-two"):
        assert cache.fresh("k") is None
        cache.forget("k")
    with project_scope("demo-one"):
        assert cache.fresh("k") == "one"

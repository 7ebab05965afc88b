"""The one per-instance cache: values kept for a time to live, per project, bounded, loaded single-flight.

Used for everything an instance may serve slightly stale instead of reading it on every request: job
pricing and maintenance mode (`system/config`), verified API keys, Firebase Auth user status. A value is
served while younger than `ttl_s`; then the next `get` loads it again, once however many requests ask at
that moment (the others wait for that load). At most `max_entries` are kept, least recently used out first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from shared.core.clients import current_project

Key = TypeVar("Key")
Value = TypeVar("Value")


class TtlCache(Generic[Key, Value]):
    def __init__(
        self, ttl_s: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s = ttl_s
        self._max = max_entries
        self._clock = clock
        # (project, key) -> (when loaded, value); expired entries stay until replaced or pushed out, so a
        # load can start from the value it replaces.
        self._entries: OrderedDict[tuple[str, Key], tuple[float, Value]] = OrderedDict()
        self._loading: dict[tuple[str, Key], threading.Lock] = {}
        self._lock = threading.Lock()
        self.loads = 0  # loads made (tests and benchmarks count them)

    def _fresh(self, slot: tuple[str, Key]) -> tuple[float, Value] | None:
        with self._lock:
            entry = self._entries.get(slot)
            if entry is None or self._clock() - entry[0] >= self.ttl_s:
                return None
            self._entries.move_to_end(slot)
            return entry

    def fresh(self, key: Key) -> Value | None:
        """The value while it is younger than the time to live; None otherwise."""
        entry = self._fresh((current_project(), key))
        return entry[1] if entry is not None else None

    def get(
        self, key: Key, load: Callable[[Value | None], Value], keep: Callable[[Value], bool] | None = None
    ) -> Value:
        """The fresh value, or `load(previous)` (previous: the expired value, or None) stored and returned;
        a loaded value that `keep` refuses is returned and dropped (any expired one with it)."""
        slot = (current_project(), key)
        entry = self._fresh(slot)
        if entry is not None:
            return entry[1]
        with self._lock:
            loading = self._loading.setdefault(slot, threading.Lock())
        try:
            with loading:
                entry = self._fresh(slot)  # another thread may have loaded it while this one waited
                if entry is not None:
                    return entry[1]
                with self._lock:
                    previous = self._entries.get(slot)
                value = load(previous[1] if previous is not None else None)
                self.loads += 1
                if keep is None or keep(value):
                    self.put(key, value)
                else:
                    self.forget(key)
                return value
        finally:
            with self._lock:
                self._loading.pop(slot, None)

    def put(self, key: Key, value: Value) -> None:
        slot = (current_project(), key)
        with self._lock:
            self._entries[slot] = (self._clock(), value)
            self._entries.move_to_end(slot)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def forget(self, key: Key) -> None:
        """The next `get` loads (e.g. right after this instance changed what is cached)."""
        with self._lock:
            self._entries.pop((current_project(), key), None)

    def holds(self, key: Key) -> bool:
        with self._lock:
            return (current_project(), key) in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

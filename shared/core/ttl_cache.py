"""The one TTL cache: a value per (project, name), loaded at most once per `seconds` per instance.

For small, rarely changing things every request would otherwise read (system/config's maintenance flag,
job prices, the credit packages on sale). Loads are single-flight per cache: a burst of requests after
expiry makes one read. Values are per project, as everything here is (tests use one project each).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from shared.core.clients import current_project

T = TypeVar("T")


class TtlCache(Generic[T]):
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, T]] = {}

    def get(self, load: Callable[[], T]) -> T:
        """This project's value, loaded by `load` when missing or older than `seconds`."""
        project = current_project()
        cached = self._values.get(project)
        if cached is not None and self._clock() - cached[0] < self.seconds:
            return cached[1]
        with self._lock:
            cached = self._values.get(project)
            if cached is not None and self._clock() - cached[0] < self.seconds:
                return cached[1]
            value = load()
            self._values[project] = (self._clock(), value)
            return value

    def forget(self) -> None:
        """This project's next get() loads again (after a change made on this instance)."""
        with self._lock:
            self._values.pop(current_project(), None)

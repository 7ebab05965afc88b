"""Counter folds soon after increments, on the local platform only (production folds once a minute).

The local functions host calls `LocalFolds.after_trigger` when a Firestore trigger call has run (the
counting triggers increment the shards, docs/counters.md); per project, a tick is published to the
`fold_counters` function's topic at most once per FOLD_INTERVAL_S, and always once more after the last
trigger (a trailing fold), so system/config catches up within about one interval. `FoldDebounce` is the
pure bookkeeping (the caller passes the clock).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from shared.core import logs
from shared.core.clients import project_scope, publish
from shared.core.function_registry import COUNTERS_TOPIC

FOLD_INTERVAL_S = 0.25


@dataclass
class FoldDebounce:
    interval_s: float
    last_fold_started: float | None = None
    scheduled: bool = False  # a fold is scheduled and has not started yet

    def after_increment(self, now: float) -> float | None:
        """Call after an increment has been committed. Returns the delay after which to start a fold, or
        None when a fold already scheduled (not yet started) will see this increment anyway."""
        if self.scheduled:
            return None
        self.scheduled = True
        if self.last_fold_started is None:
            return 0.0
        return max(0.0, self.last_fold_started + self.interval_s - now)

    def fold_starting(self, now: float) -> None:
        """Call just before a fold reads the shards: increments committed from now on need another fold."""
        self.scheduled = False
        self.last_fold_started = now


class LocalFolds:
    def __init__(self, interval_s: float = FOLD_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._lock = threading.Lock()
        self._debounce: dict[str, FoldDebounce] = {}

    def after_trigger(self, project: str) -> None:
        with self._lock:
            debounce = self._debounce.setdefault(project, FoldDebounce(self._interval_s))
            delay = debounce.after_increment(time.monotonic())
        if delay is not None:
            timer = threading.Timer(delay, self._fold, args=(project,))
            timer.daemon = True
            timer.start()

    def _fold(self, project: str) -> None:
        with self._lock:
            self._debounce[project].fold_starting(time.monotonic())
        try:
            with project_scope(project):
                publish(COUNTERS_TOPIC, b"{}", local_fold="true")
        except Exception as exc:
            # The next trigger or the scheduled fold catches up; nothing is lost (the shards hold the counts).
            logs.exception("local counter fold could not be published", exc, project=project)

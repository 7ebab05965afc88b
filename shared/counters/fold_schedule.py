"""When to fold counter shards into system/config after increments: at most once per interval, and always
once more after the last increment (a trailing fold), so system/config catches up within about one interval.

Pure bookkeeping (the caller passes the clock); shared/counters/service.py runs the folds it asks for on timers.
"""

from __future__ import annotations

from dataclasses import dataclass


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

"""Cloud Scheduler for the local platform: publishes to each scheduled function's topic on its schedule,
and once at start, so a sweep or a flush does not wait for its first interval (a webhook retry due 5 s
after a failure in the first minute would otherwise wait for the minute).

Only the every-N-minutes cron forms the declaration uses are supported ("* * * * *", "*/N * * * *").
The reconciliation runs more often than in production (LOCAL_INTERVALS_S); the job sweep polls for most of
each minute anyway, and locally its recovery grace is 5 s: a local job whose trigger call was lost (the host
was down) is requeued within seconds, not minutes (docs/reliability.md).
"""

from __future__ import annotations

import threading

from shared.core import logs
from shared.core.function_registry import FUNCTIONS, FunctionSpec

LOCAL_INTERVALS_S: dict[str, float] = {"reconcile": 30.0}


def interval_seconds(schedule: str) -> float:
    minute = schedule.split()[0]
    if minute == "*":
        return 60.0
    if minute.startswith("*/") and minute[2:].isdigit():
        return 60.0 * int(minute[2:])
    raise ValueError(f"the local scheduler does not support the schedule {schedule!r}")


class LocalScheduler:
    def __init__(self, project: str, functions: tuple[FunctionSpec, ...] = FUNCTIONS) -> None:
        self.project = project
        self.jobs = [
            (spec, LOCAL_INTERVALS_S.get(spec.name) or interval_seconds(spec.schedule))
            for spec in functions
            if spec.schedule
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for spec, interval in self.jobs:
            thread = threading.Thread(target=self._run, args=(spec, interval), daemon=True, name=spec.name)
            thread.start()
            self._threads.append(thread)

    def _run(self, spec: FunctionSpec, interval: float) -> None:
        from shared.core.clients import project_scope, publish

        while True:
            try:
                with project_scope(self.project):
                    publish(str(spec.topic), b"{}", scheduled="true")
            except Exception as exc:
                logs.exception(f"scheduler could not trigger {spec.name}", exc)
            if self._stop.wait(interval):
                return

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

"""Run a callable from many threads at once, each in a copy of the caller's context (the test's project)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def run_concurrently(task: Callable[[int], T], count: int, workers: int = 32) -> list[T | BaseException]:
    """Start `count` calls of task(i) together (a barrier releases them at once); returns results or errors."""
    barrier = threading.Barrier(min(workers, count))

    def one(i: int, context: contextvars.Context) -> T | BaseException:
        if i < min(workers, count):
            barrier.wait()
        try:
            return context.run(task, i)
        except BaseException as exc:
            return exc

    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(one, i, contextvars.copy_context()) for i in range(count)]
        return [f.result() for f in futures]

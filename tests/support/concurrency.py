"""Run calls concurrently in the caller's project: worker threads do not inherit context variables, and the
project a client talks to is one (shared.core.clients.project_scope)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_concurrently(function: Callable[[T], R], items: Iterable[T], threads: int = 32) -> list[R]:
    context = contextvars.copy_context()

    def run(item: T) -> R:
        return context.copy().run(function, item)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, items))


def run_concurrently(task: Callable[[int], T], count: int, workers: int = 32) -> list[T | BaseException]:
    """Start `count` calls of task(i) together (a barrier releases them at once); returns results or errors."""
    barrier = threading.Barrier(min(workers, count))
    context = contextvars.copy_context()

    def one(i: int) -> T | BaseException:
        if i < min(workers, count):
            barrier.wait()
        try:
            return context.copy().run(task, i)
        except BaseException as exc:
            return exc

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(count)))

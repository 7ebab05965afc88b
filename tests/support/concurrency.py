"""Run calls concurrently in the caller's project: worker threads do not inherit context variables, and the
project a client talks to is one (shared.clients.project_scope)."""

from __future__ import annotations

import contextvars
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

"""Poll for asynchronous effects (triggers, push deliveries): never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T | None], timeout: float = 30.0, message: str = "condition") -> T:
    """Call `check` until it returns something truthy (returned) or the timeout passes (AssertionError).

    What is returned is never None: a check answering `X | None` gives an `X`."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    last = check()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not met within {timeout} s (last: {last!r})")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
        last = check()
    return last

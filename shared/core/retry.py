"""Retrying a Firestore commit that lost a race: which errors mean "nothing was written, read again", and the
jittered pause between attempts.

- FailedPrecondition: a `last_update_time` / `exists` precondition failed (someone wrote first).
- Aborted: the commit was aborted, e.g. the emulator's "Transaction lock timeout" under contention (also
  possible in production). A batch is atomic, so an aborted commit wrote nothing and trying again is safe.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from google.api_core.exceptions import Aborted, FailedPrecondition

T = TypeVar("T")
RETRYABLE_COMMIT_ERRORS: tuple[type[Exception], ...] = (FailedPrecondition, Aborted)


def backoff(attempt: int, *, step: float = 0.005, cap: float = 0.1) -> None:
    """Sleep a random time up to min(step x (attempt + 1), cap): jitter breaks lockstep retries."""
    time.sleep(random.uniform(0, min(step * (attempt + 1), cap)))


def retry_commit(
    attempt: Callable[[], T],
    *,
    what: str,
    max_attempts: int = 50,
    retry_on: tuple[type[Exception], ...] = RETRYABLE_COMMIT_ERRORS,
    step: float = 0.005,
    cap: float = 0.1,
    gave_up: Callable[[], Exception] | None = None,
) -> T:
    """Run `attempt` (read, decide, commit) until it returns without one of `retry_on` (a lost race or an
    aborted commit: nothing was written, so reading again is safe). When it kept losing, raises what
    `gave_up` makes (e.g. the API's 503 with Retry-After) or else a RuntimeError naming `what`."""
    for number in range(max_attempts):
        try:
            return attempt()
        except retry_on:
            backoff(number, step=step, cap=cap)
    if gave_up is not None:
        raise gave_up()
    raise RuntimeError(f"{what} kept changing")

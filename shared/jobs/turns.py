"""Flow control's decisions per job type, as pure functions of facts and time (docs/workers.md, "Flow
control"): who goes next among the customers waiting for the type's worker, how long the type pauses
after its worker said "not now", and the limits' ranges. shared/jobs/flow.py keeps the state in Redis and
runs the same rules atomically there (a Lua script); tests/integration/test_job_flow.py holds the script to
this model.

Fair turns: the customers with waiting jobs form a ring; the next free slot goes to the customer at the
head, who takes their oldest waiting job and goes to the back of the ring if they have more. A customer's
new job joins the ring's back: behind at most one turn of every other waiting customer, never behind
another customer's backlog.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta

DEFAULT_MAX_CONCURRENCY = 10
# A worker's 429/503: the type waits its Retry-After, at most MAX_PAUSE; without one, DEFAULT_PAUSE doubled
# per "not now" in a row (a worker that keeps refusing is asked less and less often), at most MAX_PAUSE.
DEFAULT_PAUSE = timedelta(seconds=1)
MAX_PAUSE = timedelta(minutes=5)
NOT_NOW_STATUSES = frozenset({429, 503})


def answer_counts(status_code: int | None) -> bool:
    """Whether an answer uses up one of the job's attempts: a 429 or 503 is "not now" and does not;
    everything else does (2xx, 4xx, 408, other 5xx, no answer, a timeout)."""
    return status_code not in NOT_NOW_STATUSES


def pause_for(retry_after: timedelta | None, not_now_in_a_row: int) -> timedelta:
    """How long the type waits before its next dispatch after its worker's `not_now_in_a_row`-th "not now"
    in a row (1-based)."""
    if retry_after is not None:
        return min(max(retry_after, timedelta(0)), MAX_PAUSE)
    doubling = min(max(not_now_in_a_row, 1) - 1, 16)
    doubled: timedelta = DEFAULT_PAUSE * (1 << doubling)
    return min(doubled, MAX_PAUSE)


def rate_interval_ms(max_rate_per_s: float | None) -> int:
    """The spacing of dispatches that a rate limit asks for (0: none)."""
    return 0 if max_rate_per_s is None else max(1, round(1000 / max_rate_per_s))


@dataclass
class FairQueue:
    """The waiting jobs of one type: the ring of customers and each customer's jobs, oldest first."""

    ring: deque[str] = field(default_factory=deque)
    waiting: dict[str, deque[str]] = field(default_factory=dict)

    def admit(self, customer: str, job_id: str) -> None:
        jobs = self.waiting.setdefault(customer, deque())
        if job_id in jobs:
            return
        jobs.append(job_id)
        if len(jobs) == 1:
            self.ring.append(customer)

    def put_back(self, customer: str, job_id: str) -> None:
        """A job whose worker said "not now": first of its customer's jobs; a customer with nothing else
        waiting goes first in line, one already in line keeps their place."""
        jobs = self.waiting.setdefault(customer, deque())
        jobs.appendleft(job_id)
        if len(jobs) == 1:
            self.ring.appendleft(customer)

    def next_turn(self) -> tuple[str, str] | None:
        """(customer, job) whose turn it is, taken off the queue; None when nobody waits."""
        while self.ring:
            customer = self.ring.popleft()
            jobs = self.waiting.get(customer)
            if not jobs:
                continue
            job_id = jobs.popleft()
            if jobs:
                self.ring.append(customer)
            else:
                del self.waiting[customer]
            return customer, job_id
        return None

    def __len__(self) -> int:
        return sum(len(jobs) for jobs in self.waiting.values())

"""Flow control's pure rules (shared/jobs/turns.py) and the job's absolute deadline
(shared/jobs/attempts.job_deadline): who goes next, whether an answer counts, how long a type pauses, when
a job must have ended. No emulators."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.jobs.attempts import (
    MAX_RETRY_AFTER,
    RECOVERY_GRACE,
    deadline_of,
    job_deadline,
    republished_sweep_at,
)
from shared.jobs.turns import (
    DEFAULT_PAUSE,
    MAX_PAUSE,
    FairQueue,
    answer_counts,
    pause_for,
    rate_interval_ms,
)
from shared.models import Job

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_only_429_and_503_do_not_count() -> None:
    assert not answer_counts(429)
    assert not answer_counts(503)
    for status in (None, 200, 400, 408, 410, 500, 502, 504):
        assert answer_counts(status), status


def test_the_pause_is_retry_after_capped_else_a_doubling_default() -> None:
    assert pause_for(timedelta(seconds=3), 1) == timedelta(seconds=3)
    assert pause_for(timedelta(seconds=3), 9) == timedelta(seconds=3)
    assert pause_for(timedelta(hours=5), 1) == MAX_PAUSE
    assert pause_for(timedelta(seconds=-4), 1) == timedelta(0)
    assert [pause_for(None, n) for n in (1, 2, 3)] == [DEFAULT_PAUSE, DEFAULT_PAUSE * 2, DEFAULT_PAUSE * 4]
    assert pause_for(None, 10_000) == MAX_PAUSE


def test_rate_intervals() -> None:
    assert rate_interval_ms(None) == 0
    assert rate_interval_ms(4) == 250
    assert rate_interval_ms(0.1) == 10_000
    assert rate_interval_ms(1000) == 1


def drain(queue: FairQueue) -> list[tuple[str, str]]:
    order = []
    while (turn := queue.next_turn()) is not None:
        order.append(turn)
    return order


def test_a_new_customer_goes_next_behind_a_backlog() -> None:
    queue = FairQueue()
    for n in range(40):
        queue.admit("alice", f"a{n}")
    assert queue.next_turn() == ("alice", "a0")
    queue.admit("bob", "b0")
    assert queue.next_turn() == ("alice", "a1")  # alice was in line before bob came
    assert queue.next_turn() == ("bob", "b0")
    assert len(queue) == 38


def test_a_put_back_job_goes_first() -> None:
    queue = FairQueue()
    for job in ("a0", "a1"):
        queue.admit("alice", job)
    queue.admit("bob", "b0")
    assert queue.next_turn() == ("alice", "a0")
    queue.put_back("alice", "a0")  # first of alice's jobs again; alice keeps her place behind bob
    assert [job for _, job in drain(queue)] == ["b0", "a0", "a1"]
    queue.admit("bob", "b1")
    queue.put_back("alice", "a2")  # alice had nothing waiting: she goes first in line
    assert [job for _, job in drain(queue)] == ["a2", "b1"]


@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 30)), max_size=120))
def test_every_job_comes_out_once_in_its_customers_order_taking_turns(
    admissions: list[tuple[str, int]],
) -> None:
    queue = FairQueue()
    admitted: dict[str, list[str]] = {}
    for customer, n in admissions:
        job = f"{customer}{n}"
        queue.admit(customer, job)  # a duplicate admission changes nothing
        if job not in admitted.setdefault(customer, []):
            admitted[customer].append(job)
    order = drain(queue)
    assert sorted(job for _, job in order) == sorted(j for jobs in admitted.values() for j in jobs)
    for customer, jobs in admitted.items():
        assert [job for c, job in order if c == customer] == jobs
    # Turns: while several customers wait, nobody takes two turns before every other waiting one took one.
    remaining = {c: len(jobs) for c, jobs in admitted.items()}
    since_last: dict[str, set[str]] = {}
    for customer, _ in order:
        waiting = {c for c, left in remaining.items() if left > 0}
        seen = since_last.get(customer)
        if seen is not None:
            assert waiting - {customer} <= seen, (customer, waiting, seen)
        since_last[customer] = set()
        for other in since_last:
            if other != customer:
                since_last[other].add(customer)
        remaining[customer] -= 1


@given(
    st.integers(10, 604800),
    st.integers(1, 3600),
    st.integers(1, 10),
    st.integers(1, 3600),
    st.integers(1, 10),
)
def test_the_deadline_leaves_room_for_every_attempt_and_grows_with_each_setting(
    queue_s: int, timeout_s: int, attempts: int, more_s: int, more_attempts: int
) -> None:
    deadline = job_deadline(NOW, queue_s, timeout_s, attempts)
    assert (
        deadline >= NOW + timedelta(seconds=queue_s + attempts * timeout_s) + (attempts - 1) * MAX_RETRY_AFTER
    )
    assert deadline > NOW + RECOVERY_GRACE
    assert job_deadline(NOW, queue_s + more_s, timeout_s, attempts) > deadline
    assert job_deadline(NOW, queue_s, timeout_s + more_s, attempts) > deadline
    assert job_deadline(NOW, queue_s, timeout_s, attempts + more_attempts) > deadline
    assert job_deadline(NOW + timedelta(seconds=more_s), queue_s, timeout_s, attempts) > deadline


def job(**fields: object) -> Job:
    base: dict[str, object] = {
        "user_id": "u",
        "key_id": "k",
        "type": "t",
        "livemode": True,
        "created_at": NOW,
    }
    return Job.model_validate(base | fields)


def test_jobs_stored_without_a_deadline_still_have_one() -> None:
    assert deadline_of(job(deadline_at=NOW)) == NOW
    legacy = deadline_of(job(timeout_s=300, max_attempts=3))
    assert NOW + timedelta(days=7) < legacy < NOW + timedelta(days=30)


@given(st.integers(0, 10**6))
def test_a_handed_in_job_moves_on_at_least_the_grace_never_past_its_deadline(waited_s: int) -> None:
    now = NOW + timedelta(seconds=waited_s)
    queued = job(deadline_at=NOW + timedelta(hours=2))
    at = republished_sweep_at(queued, now)
    assert at <= queued.deadline_at  # type: ignore[operator]
    if now + RECOVERY_GRACE <= NOW + timedelta(hours=2):
        assert at >= now + RECOVERY_GRACE


def test_the_queue_model_is_a_deque_ring() -> None:
    queue = FairQueue()
    queue.admit("alice", "a0")
    assert queue.ring == deque(["alice"])
    assert queue.next_turn() == ("alice", "a0")
    assert queue.next_turn() is None
    assert queue.ring == deque()

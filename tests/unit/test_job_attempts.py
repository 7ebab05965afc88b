"""The worker contract's decisions (shared/jobs/attempts.py): what an answer means, the backoff, metered
settlement and what the sweep does with a due job. Pure: no emulators."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.jobs.attempts import (
    BASE_BACKOFF,
    MAX_RESULT_BYTES,
    MAX_RETRY_AFTER,
    RECOVERY_GRACE,
    SweepAction,
    Verdict,
    WorkerReply,
    after_failed_attempt,
    judge_reply,
    queued_sweep_at,
    retry_delay,
    running_sweep_at,
    settled_cost,
    sweep_action,
)
from shared.models import Job, JobFailure, JobStatus, MeteredPricing

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
METERED = MeteredPricing(credits_per_unit=2, max_credits=100, unit="second")


def reply(status: int | None, body: object = None, retry_after: timedelta | None = None) -> WorkerReply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    return WorkerReply(status, None if status else "connection refused", raw, retry_after)


def test_200_with_a_result_completes() -> None:
    outcome = judge_reply(
        reply(200, {"result": {"a": [1, 2]}}), attempt=1, max_attempts=3, metered=False, now=NOW
    )
    assert (outcome.verdict, outcome.result, outcome.units) == (Verdict.COMPLETED, {"a": [1, 2]}, None)


def test_metered_completion_needs_usage_units() -> None:
    done = judge_reply(
        reply(200, {"result": {}, "usage": {"units": 2.5}}), attempt=1, max_attempts=3, metered=True, now=NOW
    )
    assert (done.verdict, done.units) == (Verdict.COMPLETED, 2.5)
    for usage in (None, {}, {"units": -1}, {"units": "3"}, {"units": True}):
        body = {"result": {}} if usage is None else {"result": {}, "usage": usage}
        outcome = judge_reply(reply(200, body), attempt=1, max_attempts=3, metered=True, now=NOW)
        assert outcome.verdict is Verdict.RETRY and "usage.units" in (outcome.error or "")


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_4xx_fails_at_once_with_the_workers_message(status: int) -> None:
    outcome = judge_reply(
        reply(status, {"error": {"message": "bad input"}}), attempt=1, max_attempts=5, metered=False, now=NOW
    )
    assert (outcome.verdict, outcome.error, outcome.failure_reason) == (
        Verdict.FAILED,
        "bad input",
        JobFailure.WORKER_ERROR,
    )
    bare = judge_reply(reply(status, b"nope"), attempt=1, max_attempts=5, metered=False, now=NOW)
    assert bare.error == f"the worker answered {status}"


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_not_now_and_do_not_count(status: int) -> None:
    outcome = judge_reply(
        reply(status, retry_after=timedelta(seconds=7)), attempt=3, max_attempts=3, metered=False, now=NOW
    )
    # Even on the last attempt: a "not now" never exhausts the attempts.
    assert (outcome.verdict, outcome.retry_after, outcome.failure_reason) == (
        Verdict.NOT_NOW,
        timedelta(seconds=7),
        None,
    )


@pytest.mark.parametrize("status", [None, 301, 408, 500, 502, 504])
def test_other_answers_fail_the_attempt_and_back_off(status: int | None) -> None:
    outcome = judge_reply(reply(status), attempt=2, max_attempts=3, metered=False, now=NOW)
    assert outcome.verdict is Verdict.RETRY
    assert outcome.next_attempt_at is not None
    assert NOW + BASE_BACKOFF * 2 / 2 <= outcome.next_attempt_at <= NOW + BASE_BACKOFF * 2


def test_the_last_attempt_exhausts() -> None:
    outcome = judge_reply(reply(500), attempt=3, max_attempts=3, metered=False, now=NOW)
    assert (outcome.verdict, outcome.failure_reason) == (Verdict.FAILED, JobFailure.ATTEMPTS_EXHAUSTED)
    assert "All 3 attempts failed" in (outcome.error or "")


def test_retry_after_replaces_the_backoff_capped() -> None:
    asked = judge_reply(
        reply(502, retry_after=timedelta(0)), attempt=1, max_attempts=3, metered=False, now=NOW
    )
    assert asked.next_attempt_at == NOW
    huge = judge_reply(
        reply(500, retry_after=timedelta(days=3)), attempt=1, max_attempts=3, metered=False, now=NOW
    )
    assert huge.next_attempt_at == NOW + MAX_RETRY_AFTER


def test_unusable_answers_fail_the_attempt() -> None:
    big = {"result": {"x": "y" * (MAX_RESULT_BYTES + 1)}}
    for body, reason in (
        (b"not json", "not a JSON object"),
        (b"[1]", "not a JSON object"),
        ({"result": [1]}, "result is not a JSON object"),
        ({"result": {"n": [[1]]}}, "cannot be stored"),
        (big, "larger than"),
    ):
        outcome = judge_reply(reply(200, body), attempt=1, max_attempts=2, metered=False, now=NOW)
        assert outcome.verdict is Verdict.RETRY, body
        assert reason in (outcome.error or ""), outcome.error


def test_a_result_of_exactly_the_limit_is_kept() -> None:
    overhead = len(json.dumps({"x": ""}, separators=(",", ":")))
    result = {"x": "y" * (MAX_RESULT_BYTES - overhead)}
    outcome = judge_reply(reply(200, {"result": result}), attempt=1, max_attempts=1, metered=False, now=NOW)
    assert outcome.verdict is Verdict.COMPLETED


@given(st.integers(min_value=1, max_value=10), st.integers(min_value=0, max_value=2**32))
def test_backoff_is_at_most_5s_doubling(attempt: int, seed: int) -> None:
    delay = retry_delay(attempt, random.Random(seed))
    ceiling = BASE_BACKOFF * 2 ** (attempt - 1)
    assert ceiling / 2 <= delay <= ceiling


@given(st.integers(min_value=1, max_value=10), st.integers(min_value=1, max_value=10))
def test_attempts_end_exactly_at_max_attempts(attempt: int, max_attempts: int) -> None:
    outcome = after_failed_attempt(attempt, max_attempts, "boom", NOW)
    assert (outcome.verdict is Verdict.FAILED) is (attempt >= max_attempts)


@given(
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.sampled_from([0.1, 0.5, 1, 2, 3.7, 100]),
    st.integers(min_value=1, max_value=10_000),
)
def test_settled_cost_is_the_rounded_up_usage_capped(units: float, rate: float, cap: int) -> None:
    pricing = MeteredPricing(credits_per_unit=rate, max_credits=cap, unit="second")
    cost = settled_cost(units, pricing)
    assert 0 <= cost <= cap
    exact = Decimal(repr(units)) * Decimal(repr(rate))
    if cost < cap:
        assert cost - 1 < exact <= cost
    else:
        assert exact > cap - 1


def test_settled_cost_is_exact_in_decimal() -> None:
    assert settled_cost(3, MeteredPricing(credits_per_unit=0.1, max_credits=10, unit="item")) == 1
    assert settled_cost(2.5, METERED) == 5
    assert settled_cost(2.6, METERED) == 6
    assert settled_cost(0, METERED) == 0
    assert settled_cost(1000, METERED) == 100
    assert math.ceil(0.1 * 3 * 10) == 4  # what float arithmetic would have charged for 3 x 0.1 x 10


def job(**fields: object) -> Job:
    base: dict[str, object] = {
        "user_id": "u",
        "key_id": "k",
        "type": "t",
        "livemode": True,
        "created_at": NOW,
    }
    return Job.model_validate(base | fields)


def test_sweep_actions() -> None:
    later = NOW + timedelta(seconds=10)
    assert sweep_action(job(expires_at=NOW), NOW) is SweepAction.EXPIRE
    assert sweep_action(job(expires_at=later), NOW) is SweepAction.DISPATCH
    # After a first attempt the queue deadline no longer applies.
    assert sweep_action(job(expires_at=NOW, attempts=1, next_attempt_at=later), NOW) is SweepAction.NONE
    assert sweep_action(job(attempts=1, next_attempt_at=NOW), NOW) is SweepAction.DISPATCH
    running = {"status": JobStatus.RUNNING, "attempts": 1, "attempt_deadline": NOW}
    assert sweep_action(job(**running, sweep_at=running_sweep_at(NOW)), NOW) is SweepAction.NONE
    lost = sweep_action(job(**running, sweep_at=running_sweep_at(NOW)), NOW + RECOVERY_GRACE)
    assert lost is SweepAction.LOST_ATTEMPT
    # Past the absolute deadline, whatever the state: the sweep ends it.
    for status in (JobStatus.QUEUED, JobStatus.RUNNING):
        assert sweep_action(job(status=status, attempts=1, deadline_at=NOW), NOW) is SweepAction.DEADLINE
        assert sweep_action(job(status=status, attempts=1, deadline_at=later, sweep_at=later), NOW) in (
            SweepAction.NONE,
            SweepAction.DISPATCH,
        )
    for status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED):
        assert sweep_action(job(status=status, deadline_at=NOW - timedelta(days=1)), NOW) is SweepAction.NONE
        assert sweep_action(
            job(status=status, expires_at=NOW, attempt_deadline=NOW - timedelta(days=1)), NOW
        ) is (SweepAction.NONE)


def test_queued_sweep_times() -> None:
    expires = NOW + timedelta(hours=1)
    assert queued_sweep_at(NOW, expires) == NOW + RECOVERY_GRACE
    assert queued_sweep_at(NOW, None) == NOW + RECOVERY_GRACE
    assert queued_sweep_at(NOW, NOW + timedelta(seconds=1)) == NOW + timedelta(seconds=1)

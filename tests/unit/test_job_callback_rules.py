"""Callback completion, delayed jobs and cancel policies (shared/jobs/callback_rules.py): what a callback
means, when it is overdue, how far ahead run_at may be, and what a canceled job costs. Pure: no emulators."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.jobs.attempts import Verdict
from shared.jobs.callback_rules import (
    CALLBACK_TOKEN_PREFIX,
    MAX_RUN_AT_AHEAD,
    CallbackRefused,
    callback_overdue,
    callback_token_hash,
    callback_token_matches,
    cancel_charge,
    canceled_settlement,
    new_callback_token,
    read_callback,
    run_at_refusal,
)
from shared.models import (
    CancelPolicy,
    FixedPricing,
    Job,
    JobCompletion,
    JobFailure,
    JobStatus,
    MeteredPricing,
)
from shared.workers.dispatch import reported_units

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
METERED = MeteredPricing(credits_per_unit=2, max_credits=100, unit="second")


def job(**fields: Any) -> Job:
    base: dict[str, Any] = {
        "user_id": "u",
        "key_id": "k",
        "type": "t",
        "livemode": True,
        "created_at": NOW,
        "pricing": FixedPricing(credits=5),
        "cost": 5,
        "reserved_credits": 5,
    }
    return Job(**(base | fields))


def callback(body: object, metered: bool = False, attempt: int = 1, max_attempts: int = 3) -> Any:
    raw = json.dumps(body).encode()
    return read_callback(raw, attempt=attempt, max_attempts=max_attempts, metered=metered, now=NOW)


def test_a_token_matches_only_its_own_hash() -> None:
    token = new_callback_token()
    assert token.startswith(CALLBACK_TOKEN_PREFIX) and len(token) > 40
    assert callback_token_matches(token, callback_token_hash(token))
    assert not callback_token_matches(new_callback_token(), callback_token_hash(token))
    assert not callback_token_matches(None, callback_token_hash(token))
    assert not callback_token_matches("", callback_token_hash(token))
    assert not callback_token_matches(token, None)


def test_a_result_completes_with_its_usage() -> None:
    report = callback({"result": {"text": "hi"}, "usage": {"units": 3}}, metered=True)
    assert report.progress is None
    assert (report.outcome.verdict, report.outcome.result, report.outcome.units) == (
        Verdict.COMPLETED,
        {"text": "hi"},
        3.0,
    )


def test_an_unusable_result_is_refused_and_changes_nothing() -> None:
    bodies: tuple[dict[str, object], ...] = (
        {"result": {}},
        {"result": [1]},
        {"result": {}, "usage": {"units": -1}},
    )
    for body in bodies:
        with pytest.raises(CallbackRefused):
            callback(body, metered=True)


def test_errors_fail_the_job_or_the_attempt() -> None:
    final = callback({"error": {"code": "bad_input", "message": "no audio"}, "retryable": False})
    assert (final.outcome.verdict, final.outcome.failure_reason) == (Verdict.FAILED, JobFailure.WORKER_ERROR)
    assert final.outcome.error == "bad_input: no audio"
    retry = callback({"error": {"message": "busy"}, "retryable": True}, attempt=1, max_attempts=3)
    assert retry.outcome.verdict is Verdict.RETRY and retry.outcome.next_attempt_at > NOW
    last = callback({"error": {"message": "busy"}, "retryable": True}, attempt=3, max_attempts=3)
    assert (last.outcome.verdict, last.outcome.failure_reason) == (
        Verdict.FAILED,
        JobFailure.ATTEMPTS_EXHAUSTED,
    )


def test_progress_is_a_report_not_an_outcome() -> None:
    report = callback({"progress": {"percent": 42.5, "message": "halfway"}})
    assert report.outcome is None and report.progress is not None
    assert (report.progress.percent, report.progress.message) == (42.5, "halfway")


@pytest.mark.parametrize(
    "body",
    [
        [],
        {},
        {"result": {}, "progress": {"percent": 1}},
        {"progress": {"percent": 101}},
        {"progress": {"percent": True}},
        {"progress": {"percent": 5, "message": 3}},
        {"error": "boom"},
        {"error": {"message": ""}},
        {"error": {"message": "x"}, "retryable": "yes"},
    ],
)
def test_bodies_outside_the_contract_are_refused(body: object) -> None:
    with pytest.raises(CallbackRefused):
        callback(body)


def test_not_json_is_refused() -> None:
    with pytest.raises(CallbackRefused):
        read_callback(b"{", attempt=1, max_attempts=1, metered=False, now=NOW)


def test_a_callback_is_overdue_only_when_running_past_its_deadline() -> None:
    waiting = job(status=JobStatus.RUNNING, completion=JobCompletion.CALLBACK, attempt_deadline=NOW)
    assert callback_overdue(waiting, NOW)
    assert not callback_overdue(waiting, NOW - timedelta(seconds=1))
    assert not callback_overdue(waiting.model_copy(update={"completion": JobCompletion.RESPONSE}), NOW)
    assert not callback_overdue(waiting.model_copy(update={"status": JobStatus.COMPLETED}), NOW)


@given(st.integers(min_value=-(10**6), max_value=2 * 7 * 86400))
def test_run_at_is_refused_only_beyond_seven_days(offset_s: int) -> None:
    refusal = run_at_refusal(NOW + timedelta(seconds=offset_s), NOW)
    assert (refusal is None) == (timedelta(seconds=offset_s) <= MAX_RUN_AT_AHEAD)


def test_refund_policy_keeps_nothing() -> None:
    for status in (JobStatus.QUEUED, JobStatus.RUNNING):
        charge = cancel_charge(job(status=status))
        assert (charge.keep, charge.settle_later) == (0, False)


def test_charge_started_keeps_a_running_fixed_price_only() -> None:
    policy = {"cancel_policy": CancelPolicy.CHARGE_STARTED}
    assert cancel_charge(job(status=JobStatus.RUNNING, **policy)).keep == 5
    assert cancel_charge(job(status=JobStatus.QUEUED, **policy)).keep == 0
    assert cancel_charge(job(status=JobStatus.RUNNING, livemode=False, **policy)).keep == 0


def test_charge_started_metered_settles_on_reported_units() -> None:
    metered = job(
        status=JobStatus.RUNNING,
        cancel_policy=CancelPolicy.CHARGE_STARTED,
        pricing=METERED,
        cost=0,
        reserved_credits=100,
    )
    assert cancel_charge(metered).settle_later
    assert canceled_settlement(metered, 10.2) == (21, 10.2)
    assert canceled_settlement(metered, None) == (0, 0.0)
    assert canceled_settlement(metered, 1e9) == (100, 1e9)


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_a_canceled_settlement_never_exceeds_the_reservation(units: float) -> None:
    metered = job(cancel_policy=CancelPolicy.CHARGE_STARTED, pricing=METERED, cost=0, reserved_credits=100)
    cost, _ = canceled_settlement(metered, units)
    assert 0 <= cost <= 100


@pytest.mark.parametrize(
    ("body", "units"),
    [
        (b'{"usage": {"units": 7.3}}', 7.3),
        (b'{"result": {}, "usage": {"units": 0}}', 0.0),
        (b'{"usage": {"units": 1' + b"0" * 400 + b"}}", None),
        (b'{"usage": {"units": 1e999}}', None),
        (b'{"usage": {"units": -1}}', None),
        (b'{"usage": {"units": true}}', None),
        (b'{"usage": {}}', None),
        (b"not json", None),
        (b"[]", None),
    ],
)
def test_the_units_reported_to_a_cancel_notice(body: bytes, units: float | None) -> None:
    assert reported_units(body) == units

"""Pure rules behind the production fixes (docs/reliability.md): JSON value caps on job inputs and worker
results, a worker's usage.units of any size or type, the webhook sweep's one hand-out per due time, and a
counter repair that never lowers total_jobs when test jobs expire."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.billing.purchases import PURCHASE_BUDGET_S, stripe_call_fits
from shared.billing.stripe_client import STRIPE_CALL_WORST_S
from shared.core.firestore_values import (
    MAX_JSON_VALUES,
    UnstorableValue,
    check_json_values,
    count_json_values,
)
from shared.core.function_registry import FUNCTIONS
from shared.counters.reconcile import repairs_for
from shared.counters.shards import Counter
from shared.jobs.attempts import MAX_UNITS, Verdict, WorkerReply, judge_reply
from shared.models import WebhookEndpoint, WebhookEvent, WebhookEventType
from shared.webhooks.decisions import Lane, Step, decide_attempt

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=30,
)


def exact_count(value: object) -> int:
    if isinstance(value, dict):
        return 1 + sum(exact_count(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(exact_count(v) for v in value)
    return 1


@given(json_values)
def test_values_are_counted_objects_arrays_and_scalars_together(value: object) -> None:
    assert count_json_values(value, 10_000) == exact_count(value)


@given(json_values, st.integers(0, 40))
def test_a_count_past_the_limit_stops_early_but_still_says_over(value: object, limit: int) -> None:
    count = count_json_values(value, limit)
    assert count <= limit + 1
    assert (count > limit) == (exact_count(value) > limit)


def test_the_issues_64_kib_of_empty_objects_is_refused() -> None:
    many: dict[str, object] = {str(i): {} for i in range(21_000)}
    with pytest.raises(UnstorableValue, match=f"more than {MAX_JSON_VALUES} JSON values"):
        check_json_values(many)
    check_json_values({str(i): i for i in range(MAX_JSON_VALUES - 1)})  # the object itself + 4,999


def judge(body: bytes, metered: bool = False) -> tuple[Verdict, str | None, float | None]:
    outcome = judge_reply(WorkerReply(200, None, body), attempt=1, max_attempts=3, metered=metered, now=NOW)
    return outcome.verdict, outcome.error, outcome.units


def test_a_result_with_too_many_values_fails_the_attempt_with_a_clear_reason() -> None:
    body = json.dumps({"result": {"items": [{} for _ in range(MAX_JSON_VALUES)]}}).encode()
    verdict, error, _ = judge(body)
    assert verdict is Verdict.RETRY and f"more than {MAX_JSON_VALUES} JSON values" in (error or "")


@pytest.mark.parametrize(
    "units",
    [
        "1" + "0" * 399,  # a 400-digit integer: float() of it would overflow
        "-" + "9" * 30,
        "1e400",  # parsed as infinity
        "1e16",
        '"5"',
        "true",
        "null",
        "[1]",
        "{}",
    ],
)
def test_usage_units_of_any_size_or_type_are_refused_cleanly(units: str) -> None:
    body = ('{"result": {}, "usage": {"units": ' + units + "}}").encode()
    verdict, error, _ = judge(body, metered=True)
    assert verdict is Verdict.RETRY and "usage.units" in (error or "")


def test_usage_units_up_to_the_bound_are_kept() -> None:
    for units in ("0", "7.3", str(int(MAX_UNITS)), "1e15"):
        verdict, _, kept = judge(('{"result": {}, "usage": {"units": ' + units + "}}").encode(), True)
        assert verdict is Verdict.COMPLETED and kept == float(units)


def endpoint() -> WebhookEndpoint:
    return WebhookEndpoint(
        user_id="u1",
        url="https://h.example/",
        events=[WebhookEventType.JOB_COMPLETED],
        secret="whsec_x",
        created_at=NOW,
    )


def retry_event(**fields: object) -> WebhookEvent:
    base: dict[str, object] = {
        "user_id": "u1",
        "type": WebhookEventType.JOB_COMPLETED,
        "livemode": True,
        "payload": {"id": "evt_1"},
        "created_at": NOW,
        "attempts": 1,
    }
    return WebhookEvent.model_validate({**base, **fields})


def test_a_handed_out_event_is_due_until_claimed_though_its_next_attempt_is_the_backstop() -> None:
    backstop = NOW + timedelta(minutes=2)
    waiting = retry_event(next_attempt_at=backstop)
    assert decide_attempt(waiting, endpoint(), Lane.SLOW, NOW).step is Step.NOTHING
    handed_out = retry_event(next_attempt_at=backstop, handed_out=True)
    assert decide_attempt(handed_out, endpoint(), Lane.SLOW, NOW).step is Step.SEND


def test_total_jobs_is_never_lowered_users_both_ways() -> None:
    documents = {Counter.TOTAL_USERS: 10, Counter.TOTAL_JOBS: 70}
    # Test jobs deleted by their TTL: fewer job documents than counted is no drift.
    assert repairs_for(documents, {Counter.TOTAL_USERS: 10, Counter.TOTAL_JOBS: 100}, []) == {}
    # Lost creation triggers: repaired upward.
    assert repairs_for(documents, {Counter.TOTAL_USERS: 12, Counter.TOTAL_JOBS: 65}, []) == {
        Counter.TOTAL_USERS: -2,
        Counter.TOTAL_JOBS: 5,
    }
    # Still moving: left to the next check.
    assert repairs_for(documents, {Counter.TOTAL_USERS: 9, Counter.TOTAL_JOBS: 65}, [Counter.TOTAL_JOBS]) == {
        Counter.TOTAL_USERS: 1
    }


def test_the_purchase_path_fits_the_api_functions_timeout() -> None:
    api_timeout = next(spec.timeout_s for spec in FUNCTIONS if spec.name == "api")
    # A Stripe call starts only while its worst case fits the budget; the first call always fits.
    assert STRIPE_CALL_WORST_S <= PURCHASE_BUDGET_S <= api_timeout - 10
    start = 1000.0
    deadline = start + PURCHASE_BUDGET_S
    assert stripe_call_fits(start, deadline)
    assert stripe_call_fits(deadline - STRIPE_CALL_WORST_S, deadline)
    assert not stripe_call_fits(deadline - STRIPE_CALL_WORST_S + 0.001, deadline)
    # However slow Stripe is, the calls a purchase starts end by its deadline.
    now, calls = start, 0
    while stripe_call_fits(now, deadline):
        now += STRIPE_CALL_WORST_S
        calls += 1
    assert calls >= 2 and now <= deadline

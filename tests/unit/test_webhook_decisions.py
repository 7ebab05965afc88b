"""The delivery's decisions as pure rules (shared/webhooks/decisions.py), without emulators: what a message
does (send, wait for the probe, change lanes, discard, give up), what an attempt means (the event's next
state and retry time, the endpoint's health), circuit threshold, attempt limits of manual retries."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.models import WebhookEndpoint, WebhookEvent, WebhookEventStatus, WebhookEventType
from shared.outbound.results import AttemptResult
from shared.webhooks.decisions import (
    CIRCUIT_THRESHOLD,
    FAST_LANE_SLOTS,
    MAX_ATTEMPTS,
    MAX_IN_FLIGHT,
    RETRY_DELAYS,
    SLOW_ATTEMPT_MS,
    TEST_TRAFFIC_SLOTS,
    EndpointHealth,
    Lane,
    Outcome,
    Step,
    budget_id,
    decide_attempt,
    endpoint_fields,
    endpoint_health,
    is_test_traffic,
    judge_attempt,
    lane_for,
    next_attempt_at,
)
from shared.webhooks.health import disabled_event_id

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def hook(**fields: object) -> WebhookEndpoint:
    base: dict[str, object] = {
        "user_id": "u1",
        "url": "https://example.test/hook",
        "events": [WebhookEventType.JOB_COMPLETED],
        "secret": "whsec_x",
        "created_at": NOW,
        "last_triggered_at": NOW,
        "last_status_code": 200,
    }
    return WebhookEndpoint.model_validate({**base, **fields})


def event(**fields: object) -> WebhookEvent:
    base: dict[str, object] = {
        "user_id": "u1",
        "type": WebhookEventType.JOB_COMPLETED,
        "livemode": True,
        "payload": {"id": "evt_1"},
        "created_at": NOW,
    }
    return WebhookEvent.model_validate({**base, **fields})


def ok(duration_ms: int = 50) -> AttemptResult:
    return AttemptResult(200, None, duration_ms)


def failed() -> AttemptResult:
    return AttemptResult(500, "HTTP 500", 50)


def test_health_follows_the_failure_streak() -> None:
    assert endpoint_health(True, 0) is EndpointHealth.HEALTHY
    assert endpoint_health(True, CIRCUIT_THRESHOLD - 1) is EndpointHealth.HEALTHY
    assert endpoint_health(True, CIRCUIT_THRESHOLD) is EndpointHealth.FAILING
    assert endpoint_health(False, 0) is EndpointHealth.DISABLED


def test_only_healthy_fast_endpoints_use_the_fast_lane() -> None:
    assert lane_for(hook()) is Lane.FAST
    assert lane_for(hook(consecutive_failures=1)) is Lane.SLOW
    assert lane_for(hook(slow=True)) is Lane.SLOW
    assert lane_for(None) is Lane.SLOW


def test_a_raised_attempt_limit_allows_exactly_one_more_attempt() -> None:
    rng = random.Random(1)
    assert next_attempt_at(MAX_ATTEMPTS, failed(), NOW, rng) is None
    extra = next_attempt_at(MAX_ATTEMPTS, failed(), NOW, rng, attempt_limit=MAX_ATTEMPTS + 1)
    assert extra is not None and extra - NOW >= RETRY_DELAYS[-1] * 0.9
    assert next_attempt_at(MAX_ATTEMPTS + 1, failed(), NOW, rng, attempt_limit=MAX_ATTEMPTS + 1) is None
    # A recovered event that had failed after 3 attempts gets one more, then fails again.
    assert next_attempt_at(4, failed(), NOW, rng, attempt_limit=4) is None


def test_failures_open_the_circuit_with_the_probe_on_the_retry_schedule() -> None:
    retry_at = NOW + timedelta(minutes=5)
    first = endpoint_fields(hook(), Outcome.RETRY, failed(), NOW, retry_at)
    assert first["consecutive_failures"] == 1 and "probe_at" not in first
    assert first["failing_since"] == NOW
    opening = hook(consecutive_failures=CIRCUIT_THRESHOLD - 1, failing_since=NOW)
    fields = endpoint_fields(opening, Outcome.RETRY, failed(), NOW, retry_at)
    assert fields["consecutive_failures"] == CIRCUIT_THRESHOLD and fields["probe_at"] == retry_at


def test_a_success_closes_the_circuit_and_tracks_slowness() -> None:
    failing = hook(consecutive_failures=5, probe_at=NOW, failing_since=NOW)
    fields = endpoint_fields(failing, Outcome.DELIVERED, ok(), NOW, None)
    assert fields["consecutive_failures"] == 0 and fields["probe_at"] is None
    assert fields["failing_since"] is None
    assert endpoint_fields(hook(), Outcome.DELIVERED, ok(SLOW_ATTEMPT_MS), NOW, None)["slow"] is True
    assert endpoint_fields(hook(slow=True), Outcome.DELIVERED, ok(), NOW, None)["slow"] is False
    # Healthy, quick and recently touched: nothing to write (the endpoint document is shared).
    assert endpoint_fields(hook(), Outcome.DELIVERED, ok(), NOW + timedelta(seconds=1), None) == {}


def test_410_and_five_days_disable() -> None:
    gone = endpoint_fields(hook(), Outcome.GONE, AttemptResult(410, "HTTP 410", 5), NOW, None)
    assert gone["enabled"] is False
    old = hook(failing_since=NOW - timedelta(days=5, seconds=1))
    assert endpoint_fields(old, Outcome.RETRY, failed(), NOW, None)["enabled"] is False


def test_disabled_record_id_is_stable_per_disabling() -> None:
    assert disabled_event_id("wh_1", NOW) == disabled_event_id("wh_1", NOW)
    assert disabled_event_id("wh_1", NOW) != disabled_event_id("wh_1", NOW + timedelta(days=1))
    assert disabled_event_id("wh_1", NOW).startswith("evt_") and len(disabled_event_id("wh_1", NOW)) == 36


def test_a_new_event_for_a_healthy_endpoint_is_sent_in_the_lanes_slots() -> None:
    fast = decide_attempt(event(), hook(), Lane.FAST, NOW)
    assert (fast.step, fast.slots, fast.throttled) == (Step.SEND, FAST_LANE_SLOTS, False)
    slow = decide_attempt(event(), hook(), Lane.SLOW, NOW)
    assert (slow.step, slow.slots) == (Step.SEND, MAX_IN_FLIGHT)
    assert decide_attempt(event(), hook(rate_limit=5), Lane.SLOW, NOW).throttled


def test_a_first_attempt_is_due_whatever_its_backstop_says_a_retry_only_when_due() -> None:
    backstop = NOW + timedelta(minutes=1)
    assert decide_attempt(event(next_attempt_at=backstop), hook(), Lane.FAST, NOW).step is Step.SEND
    retry = event(attempts=1, next_attempt_at=backstop)
    assert decide_attempt(retry, hook(), Lane.SLOW, NOW).step is Step.NOTHING
    assert decide_attempt(retry, hook(), Lane.SLOW, backstop).step is Step.SEND


@given(st.sampled_from([s for s in WebhookEventStatus if s is not WebhookEventStatus.PENDING]))
def test_only_pending_events_do_anything(status: WebhookEventStatus) -> None:
    assert decide_attempt(event(status=status), hook(), Lane.SLOW, NOW).step is Step.NOTHING


def test_no_endpoint_a_disabled_or_unsubscribed_one_discards_with_the_reason() -> None:
    assert decide_attempt(event(), None, Lane.SLOW, NOW).reason == "no webhook endpoint"
    disabled = decide_attempt(event(), hook(enabled=False), Lane.SLOW, NOW)
    assert (disabled.step, disabled.reason) == (Step.DISCARD, "webhook endpoint disabled")
    failed_job = decide_attempt(event(type=WebhookEventType.JOB_FAILED), hook(), Lane.SLOW, NOW)
    assert (failed_job.step, failed_job.reason) == (Step.DISCARD, "endpoint not subscribed to job.failed")
    # webhook.test is always delivered to an enabled endpoint.
    assert decide_attempt(event(type=WebhookEventType.WEBHOOK_TEST), hook(), Lane.SLOW, NOW).step is Step.SEND


def test_an_event_without_attempts_left_gives_up() -> None:
    spent = event(attempts=MAX_ATTEMPTS, attempt_limit=MAX_ATTEMPTS, next_attempt_at=NOW)
    assert decide_attempt(spent, hook(), Lane.SLOW, NOW).step is Step.GIVE_UP
    raised = event(attempts=MAX_ATTEMPTS, attempt_limit=MAX_ATTEMPTS + 1, next_attempt_at=NOW)
    assert decide_attempt(raised, hook(), Lane.SLOW, NOW).step is Step.SEND


def test_the_fast_lane_hands_unhealthy_or_slow_endpoints_and_test_traffic_to_their_lanes() -> None:
    for endpoint in (hook(consecutive_failures=1), hook(slow=True)):
        moved = decide_attempt(event(), endpoint, Lane.FAST, NOW)
        assert (moved.step, moved.lane) == (Step.CHANGE_LANE, Lane.SLOW)
        assert decide_attempt(event(), endpoint, Lane.SLOW, NOW).step is Step.SEND
    test = event(livemode=False, test_traffic=True)
    moved = decide_attempt(test, hook(), Lane.FAST, NOW)
    assert (moved.step, moved.lane) == (Step.CHANGE_LANE, Lane.TEST)
    assert decide_attempt(test, hook(), Lane.TEST, NOW).step is Step.SEND
    assert lane_for(hook(), test_traffic=True) is Lane.TEST


def test_an_open_circuit_waits_for_its_probe_then_sends_one_at_a_time() -> None:
    probe_at = NOW + timedelta(minutes=5)
    failing = hook(consecutive_failures=CIRCUIT_THRESHOLD, probe_at=probe_at, failing_since=NOW)
    waiting = decide_attempt(event(), failing, Lane.SLOW, NOW)
    assert (waiting.step, waiting.wait_until) == (Step.WAIT_FOR_PROBE, probe_at)
    probe = decide_attempt(event(), failing, Lane.SLOW, probe_at)
    assert (probe.step, probe.slots) == (Step.SEND, 1)


def test_an_attempt_is_judged_delivered_retried_or_failed() -> None:
    rng = random.Random(3)
    delivered = judge_attempt(event(), hook(), 1, ok(), NOW, rng)
    assert (delivered.status, delivered.retry_at) == (WebhookEventStatus.DELIVERED, None)
    retried = judge_attempt(event(), hook(), 1, failed(), NOW, rng)
    assert retried.status is WebhookEventStatus.PENDING and retried.retry_at is not None
    assert retried.retry_at - NOW <= RETRY_DELAYS[0] * 1.1
    assert retried.endpoint_fields["consecutive_failures"] == 1
    last = judge_attempt(event(attempts=MAX_ATTEMPTS - 1), hook(), MAX_ATTEMPTS, failed(), NOW, rng)
    assert (last.status, last.retry_at) == (WebhookEventStatus.FAILED, None)
    gone = judge_attempt(event(), hook(), 1, AttemptResult(410, "HTTP 410", 5), NOW, rng)
    assert gone.status is WebhookEventStatus.FAILED and gone.endpoint_fields["enabled"] is False


def test_test_mode_events_and_webhook_test_are_test_traffic_with_a_budget_of_their_own() -> None:
    assert not is_test_traffic(True, WebhookEventType.JOB_COMPLETED)
    assert is_test_traffic(False, WebhookEventType.JOB_COMPLETED)
    assert is_test_traffic(True, WebhookEventType.WEBHOOK_TEST)
    assert budget_id("wh_1", False) == "wh_1" and budget_id("wh_1", True) == "wh_1-test"
    test = decide_attempt(event(livemode=False, test_traffic=True), hook(), Lane.SLOW, NOW)
    assert (test.step, test.slots) == (Step.SEND, TEST_TRAFFIC_SLOTS)
    live = decide_attempt(event(), hook(), Lane.SLOW, NOW)
    assert live.slots == MAX_IN_FLIGHT  # test traffic never lowers the live budget

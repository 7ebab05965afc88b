"""Endpoint health as pure rules: circuit threshold, attempt limits of manual retries, health fields."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from shared.models import WebhookEndpoint, WebhookEventType
from shared.webhooks.backlog import Lane, lane_for
from shared.webhooks.health import SLOW_ATTEMPT_MS, disabled_event_id, endpoint_fields
from shared.webhooks.schedule import (
    CIRCUIT_THRESHOLD,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    AttemptResult,
    EndpointHealth,
    Outcome,
    endpoint_health,
    next_attempt_at,
)

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

"""Every decision of a webhook delivery, as pure functions of the event, the endpoint and the time.

`decide_attempt` says what to do with a due message: send now (in how many of the endpoint's slots), wait
for the circuit's probe time, change lanes, discard, give up, or nothing. `judge_attempt` says what an HTTP
attempt means: the event's next state, when it is retried (`next_attempt_at`, the schedule below) and what
changes on the endpoint (failure streak, circuit breaker and its probe time, slowness, disabling).
shared/webhooks/delivery.py only reads, claims and writes around them (docs/webhooks.md).

The retry contract: only 2xx is success; retries after failure 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
20 h, 24 h (with jitter); 410 disables the endpoint; 429/503 honour Retry-After; an endpoint failing for 5
days is disabled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.models import WebhookEndpoint, WebhookEvent, WebhookEventStatus, WebhookEventType
from shared.outbound.results import AttemptResult, honours_retry_after

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1  # the first try plus one per delay
JITTER_FRACTION = 0.1  # each delay is stretched or shrunk by up to 10 %, so retries of a burst spread out
DISABLE_AFTER_FAILING_FOR = timedelta(days=5)


class Outcome(StrEnum):
    DELIVERED = "delivered"  # 2xx
    RETRY = "retry"  # any other failure: try again on the schedule
    GONE = "gone"  # 410: the receiver asks us to stop; the endpoint is disabled


def classify(result: AttemptResult) -> Outcome:
    if result.status_code is not None and 200 <= result.status_code < 300:
        return Outcome.DELIVERED
    if result.status_code == 410:
        return Outcome.GONE
    return Outcome.RETRY


def jittered(delay: timedelta, rng: random.Random | None = None) -> timedelta:
    factor = 1 + (rng or random).uniform(-JITTER_FRACTION, JITTER_FRACTION)
    return timedelta(seconds=delay.total_seconds() * factor)


def next_attempt_at(
    attempt: int,
    result: AttemptResult,
    now: datetime,
    rng: random.Random | None = None,
    attempt_limit: int = MAX_ATTEMPTS,
) -> datetime | None:
    """When to try again after failed attempt number `attempt` (1-based); None when retries are exhausted.

    A Retry-After on 429/503 is honoured by never retrying earlier than it asks (the schedule's delay
    still applies when it is longer). `attempt_limit` is raised by manual retries and recovery: each
    allows one more attempt, and an extra attempt failing again waits the schedule's last delay.
    """
    if attempt >= attempt_limit:
        return None
    delay = jittered(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS)) - 1], rng)
    if honours_retry_after(result.status_code) and result.retry_after is not None:
        delay = max(delay, result.retry_after)
    return now + delay


class EndpointHealth(StrEnum):
    HEALTHY = "healthy"
    FAILING = "failing"  # the circuit is open: one probe at a time, on the retry schedule
    DISABLED = "disabled"


# Failed attempts in a row that open an endpoint's circuit.
CIRCUIT_THRESHOLD = 3


def endpoint_health(enabled: bool, consecutive_failures: int) -> EndpointHealth:
    if not enabled:
        return EndpointHealth.DISABLED
    if consecutive_failures >= CIRCUIT_THRESHOLD:
        return EndpointHealth.FAILING
    return EndpointHealth.HEALTHY


def should_disable_endpoint(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER_FAILING_FOR


# Attempts to one endpoint in flight at once, across all instances.
MAX_IN_FLIGHT = 2
# Of those, the shared fast lane may hold only this many: an endpoint that starts hanging can block at
# most this many of the fast lane's push slots, once, before it is moved to the slow lane.
FAST_LANE_SLOTS = 1
# Test traffic (test-mode events, webhook.test) has a budget of its own per endpoint: these slots, its own
# backlog and its own throttle counters. Live events never share a slot or a queue with it, so their
# latency does not depend on how much test traffic there is.
TEST_TRAFFIC_SLOTS = 1
# A successful attempt slower than this keeps the endpoint off the fast lane (until one is quick again).
SLOW_ATTEMPT_MS = 2000
# The endpoint document is shared by all of a user's deliveries (about one write per second per document):
# `last_triggered_at` is refreshed at most this often unless something else changes.
ENDPOINT_TOUCH_INTERVAL = timedelta(seconds=5)


class Lane(StrEnum):
    """Three subscriptions: Pub/Sub push throttles a whole subscription when its handler is slow or fails
    and serves it about in order, so endpoints that are not known to be fast and healthy never share one
    with those that are, and test traffic never shares one with live events."""

    FAST = "fast"  # topic webhook-events: new live events of healthy, fast endpoints
    SLOW = "slow"  # topic webhook-events-slow: live retries, probes, failing or slow endpoints
    TEST = "test"  # topic webhook-events-test: test traffic, new or retried


def lane_for(endpoint: WebhookEndpoint | None, test_traffic: bool = False) -> Lane:
    if test_traffic:
        return Lane.TEST
    if endpoint is None or endpoint.consecutive_failures > 0 or endpoint.slow or endpoint.rate_limit:
        return Lane.SLOW
    return Lane.FAST


class Step(StrEnum):
    NOTHING = "nothing"  # not pending, or its next attempt is not due (a lease or a retry time runs)
    DISCARD = "discard"  # no endpoint, disabled, or not subscribed: `discarded`
    GIVE_UP = "give_up"  # no attempt left: `failed`
    CHANGE_LANE = "change_lane"  # on the fast lane for test traffic, or for an endpoint not known to be fast
    WAIT_FOR_PROBE = "wait_for_probe"  # the circuit is open and its probe is not due: queue until then
    SEND = "send"  # claim a slot (one of `slots`) and send; throttled endpoints take a token first


@dataclass(frozen=True)
class Decision:
    step: Step
    reason: str | None = None  # why it is discarded
    slots: int = 0  # SEND: how many of the endpoint's slots the attempt may take
    throttled: bool = False  # SEND: the endpoint's `rate_limit` applies
    wait_until: datetime | None = None  # WAIT_FOR_PROBE: the probe time
    lane: Lane | None = None  # CHANGE_LANE: where to


def is_test_traffic(livemode: bool, event_type: WebhookEventType) -> bool:
    return not livemode or event_type is WebhookEventType.WEBHOOK_TEST


def budget_id(webhook_id: str, test_traffic: bool) -> str:
    """What an attempt's slots and throttle counters are named after: the endpoint's live or test budget."""
    return f"{webhook_id}-test" if test_traffic else webhook_id


def skip_reason(endpoint: WebhookEndpoint | None, event: WebhookEvent) -> str | None:
    if endpoint is None:
        return "no webhook endpoint"
    if not endpoint.enabled:
        return "webhook endpoint disabled"
    if event.type is not WebhookEventType.WEBHOOK_TEST and event.type not in endpoint.events:
        return f"endpoint not subscribed to {event.type.value}"
    return None


def decide_attempt(
    event: WebhookEvent, endpoint: WebhookEndpoint | None, lane: Lane, now: datetime
) -> Decision:
    """What a message for `event` does at `now`, arriving on `lane`."""
    if event.status is not WebhookEventStatus.PENDING:
        return Decision(Step.NOTHING)
    # Before the first attempt next_attempt_at is only the sweep's backstop: the first publish is due. An
    # event the sweep handed out is due too (its next_attempt_at is the backstop of that hand-out).
    waiting = event.next_attempt_at is not None and event.next_attempt_at > now and not event.handed_out
    if event.attempts > 0 and waiting:
        return Decision(Step.NOTHING)
    reason = skip_reason(endpoint, event)
    if reason is not None:
        return Decision(Step.DISCARD, reason=reason)
    assert endpoint is not None
    if event.attempts >= event.attempt_limit:
        return Decision(Step.GIVE_UP)
    if lane is Lane.FAST and lane_for(endpoint, event.test_traffic) is not Lane.FAST:
        return Decision(Step.CHANGE_LANE, lane=lane_for(endpoint, event.test_traffic))
    failing = endpoint_health(endpoint.enabled, endpoint.consecutive_failures) is EndpointHealth.FAILING
    if failing and endpoint.probe_at is not None and endpoint.probe_at > now:
        return Decision(Step.WAIT_FOR_PROBE, wait_until=endpoint.probe_at)
    # An open circuit lets one probe through at a time; the shared fast lane gives an endpoint fewer slots.
    slots = 1 if failing else (FAST_LANE_SLOTS if lane is Lane.FAST else MAX_IN_FLIGHT)
    if event.test_traffic:
        slots = min(slots, TEST_TRAFFIC_SLOTS)
    return Decision(Step.SEND, slots=slots, throttled=endpoint.rate_limit is not None)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    status: WebhookEventStatus  # the event's next state
    retry_at: datetime | None  # when a pending event is tried again
    endpoint_fields: dict[str, Any] = field(default_factory=dict)  # what changes on the endpoint


def judge_attempt(
    event: WebhookEvent,
    endpoint: WebhookEndpoint,
    attempt: int,
    result: AttemptResult,
    finished: datetime,
    rng: random.Random | None = None,
) -> Verdict:
    """What attempt number `attempt` (1-based) of `event`, ending at `finished` with `result`, means."""
    outcome = classify(result)
    retry_at = (
        next_attempt_at(attempt, result, finished, rng, attempt_limit=event.attempt_limit)
        if outcome is Outcome.RETRY
        else None
    )
    if outcome is Outcome.DELIVERED:
        status = WebhookEventStatus.DELIVERED
    elif retry_at is None:
        status = WebhookEventStatus.FAILED
    else:
        status = WebhookEventStatus.PENDING
    return Verdict(outcome, status, retry_at, endpoint_fields(endpoint, outcome, result, finished, retry_at))


def endpoint_fields(
    endpoint: WebhookEndpoint,
    outcome: Outcome,
    result: AttemptResult,
    finished: datetime,
    retry_at: datetime | None,
) -> dict[str, Any]:
    """The endpoint's changes after an attempt (empty: nothing to write)."""
    fields: dict[str, Any] = {}
    if outcome is Outcome.DELIVERED:
        if endpoint.failing_since is not None:
            fields["failing_since"] = None
        if endpoint.consecutive_failures:
            fields["consecutive_failures"] = 0
        if endpoint.probe_at is not None:
            fields["probe_at"] = None
        slow = result.duration_ms >= SLOW_ATTEMPT_MS
        if slow != endpoint.slow:
            fields["slow"] = slow
    else:
        failing_since = endpoint.failing_since or finished
        if endpoint.failing_since is None:
            fields["failing_since"] = failing_since
        streak = endpoint.consecutive_failures + 1
        fields["consecutive_failures"] = streak
        if streak >= CIRCUIT_THRESHOLD:
            # The circuit is open: the next probe follows the failed event's own retry schedule.
            fields["probe_at"] = retry_at or finished + RETRY_DELAYS[1]
        if outcome is Outcome.GONE:
            fields.update(enabled=False, disabled_reason="the endpoint answered 410 Gone")
        elif should_disable_endpoint(failing_since, finished):
            fields.update(enabled=False, disabled_reason="deliveries failed for 5 days")
    stale = endpoint.last_triggered_at is None or finished - endpoint.last_triggered_at >= (
        ENDPOINT_TOUCH_INTERVAL
    )
    if fields or stale or endpoint.last_status_code != result.status_code:
        fields.update(last_triggered_at=finished, last_status_code=result.status_code)
    return fields

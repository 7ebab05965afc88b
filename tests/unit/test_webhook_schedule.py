"""The retry policy: outcome classes, the schedule with jitter, Retry-After, the 5-day rule."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from shared.outbound.results import AttemptResult, parse_retry_after
from shared.webhooks.decisions import (
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    Outcome,
    classify,
    next_attempt_at,
    should_disable_endpoint,
)

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def result(status: int | None, retry_after: timedelta | None = None) -> AttemptResult:
    return AttemptResult(status, None if status else "connection refused", 10, retry_after)


def test_only_2xx_is_success_and_410_is_gone() -> None:
    assert classify(result(200)) is Outcome.DELIVERED
    assert classify(result(204)) is Outcome.DELIVERED
    assert classify(result(410)) is Outcome.GONE
    for status in (None, 100, 301, 302, 400, 404, 429, 500, 503):
        assert classify(result(status)) is Outcome.RETRY


def test_schedule_is_the_contracts_with_at_most_ten_percent_jitter() -> None:
    assert [d.total_seconds() for d in RETRY_DELAYS] == [
        5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
    ]  # fmt: skip
    assert MAX_ATTEMPTS == 10
    rng = random.Random(7)
    for attempt, delay in enumerate(RETRY_DELAYS, start=1):
        for _ in range(50):
            at = next_attempt_at(attempt, result(500), NOW, rng)
            assert at is not None
            assert delay * 0.9 <= at - NOW <= delay * 1.1
    assert next_attempt_at(MAX_ATTEMPTS, result(500), NOW) is None


def test_retry_after_is_honoured_on_429_and_503_only() -> None:
    two_minutes = timedelta(minutes=2)
    for status in (429, 503):
        at = next_attempt_at(1, result(status, two_minutes), NOW)
        assert at == NOW + two_minutes
    at = next_attempt_at(1, result(500, two_minutes), NOW)
    assert at is not None and at - NOW <= timedelta(seconds=5.5)
    # A short Retry-After never makes a retry earlier than the schedule's.
    at = next_attempt_at(3, result(429, timedelta(seconds=1)), NOW)
    assert at is not None and at - NOW >= timedelta(minutes=27)


def test_parse_retry_after_seconds_dates_and_garbage() -> None:
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Wed, 01 Jan 2025 12:10:00 GMT", NOW) == timedelta(minutes=10)
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", NOW) == timedelta(0)
    assert parse_retry_after("99999999", NOW) == timedelta(hours=24)
    for garbage in (None, "", "soon", "-5", "1.5", "\uff11\uff12"):
        assert parse_retry_after(garbage, NOW) is None


def test_endpoint_is_disabled_after_failing_for_five_days() -> None:
    assert not should_disable_endpoint(None, NOW)
    assert not should_disable_endpoint(NOW - timedelta(days=4, hours=23), NOW)
    assert should_disable_endpoint(NOW - timedelta(days=5), NOW)


def test_parse_retry_after_caps_huge_delays_instead_of_ignoring_them() -> None:
    # A receiver asking for a very long pause must get the 24 h cap, not the 5 s schedule.
    for huge in ("99999999999", "9" * 40, "9" * 5000):
        assert parse_retry_after(huge, NOW) == timedelta(hours=24)


def test_parse_retry_after_accepts_every_http_date_form() -> None:
    # RFC 9110 5.6.7: recipients accept IMF-fixdate, the obsolete RFC 850 form and asctime (all GMT).
    assert parse_retry_after("Wed, 01 Jan 2025 12:10:00 GMT", NOW) == timedelta(minutes=10)
    assert parse_retry_after("Wednesday, 01-Jan-25 12:10:00 GMT", NOW) == timedelta(minutes=10)
    assert parse_retry_after("Wed Jan  1 12:10:00 2025", NOW) == timedelta(minutes=10)

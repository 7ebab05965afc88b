"""The outgoing-webhook retry policy, as pure functions: what an HTTP outcome means and when to try again.

Contract: only 2xx is success; retries after failure 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h
(with jitter); 410 disables the endpoint; 429/503 honour Retry-After; an endpoint failing for 5 days is
disabled.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

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
MAX_RETRY_AFTER = timedelta(hours=24)
DISABLE_AFTER_FAILING_FOR = timedelta(days=5)


class Outcome(StrEnum):
    DELIVERED = "delivered"  # 2xx
    RETRY = "retry"  # any other failure: try again on the schedule
    GONE = "gone"  # 410: the receiver asks us to stop; the endpoint is disabled


@dataclass(frozen=True)
class AttemptResult:
    """What one HTTP attempt produced (status None: no HTTP answer, then `error` says why)."""

    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after: timedelta | None = None  # honoured on 429/503 (webhooks)
    body: bytes = b""  # the answer, read up to the send policy's response_bytes
    retry_after_header: str | None = None  # as the server sent it


def classify(result: AttemptResult) -> Outcome:
    if result.status_code is not None and 200 <= result.status_code < 300:
        return Outcome.DELIVERED
    if result.status_code == 410:
        return Outcome.GONE
    return Outcome.RETRY


def honours_retry_after(status_code: int | None) -> bool:
    return status_code in (429, 503)


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as delta-seconds or an HTTP date; None when absent or unparseable; capped at 24 h."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # More digits than any sane delay: past the cap (and int() of thousands of digits is refused).
        delay = timedelta(seconds=int(text)) if len(text) <= 10 else MAX_RETRY_AFTER
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # asctime has no zone, but every HTTP date is GMT
            when = when.replace(tzinfo=UTC)
        delay = max(when - now, timedelta(0))
    return min(delay, MAX_RETRY_AFTER)


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

"""Pure parts of the limiter and the usage metering: decisions and headers, lease sizes, snapshot parsing,
usage date ranges."""

from __future__ import annotations

import socket
from datetime import date

import pytest

from functions.routes.usage import UsageQuery, day_range
from shared.core import clients
from shared.core.errors import ApiError
from shared.core.settings import get_settings
from shared.keys.limits import (
    OPEN_SECONDS,
    SLOW_CALL_SECONDS,
    SLOW_CALLS_TO_OPEN,
    Limiter,
    StoreCircuit,
    decide,
    key_rate_limit,
    lease_size,
)
from shared.keys.usage import parse_snapshot, usage_field
from shared.models import KeyEnvironment


def test_an_allowed_request_reports_what_is_left() -> None:
    decision = decide(17.4, True, 25, "key")
    assert decision.headers() == {"RateLimit-Policy": '"key";q=25;w=1', "RateLimit": '"key";r=17;t=1'}


def test_a_full_bucket_resets_now_and_an_empty_one_says_when_to_retry() -> None:
    assert decide(25.0, True, 25, "key").reset_s == 0
    refused = decide(0.2, False, 2, "key")
    assert refused.headers() == {
        "RateLimit-Policy": '"key";q=2;w=1',
        "RateLimit": '"key";r=0;t=1',
        "Retry-After": "1",
    }
    assert decide(0.0, False, 1, "user").retry_after_s == 1  # never 0: the header must make them wait


def test_defaults_and_leases() -> None:
    assert key_rate_limit(KeyEnvironment.LIVE, None) == 100
    assert key_rate_limit(KeyEnvironment.TEST, None) == 25
    assert key_rate_limit(KeyEnvironment.TEST, 7) == 7
    assert [lease_size(n) for n in (1, 10, 25, 100, 1000)] == [1, 1, 1, 5, 50]


def test_a_snapshot_groups_fields_by_day_user_and_key_in_a_stable_order() -> None:
    data = {
        usage_field("u2", "key_b", "requests", "2026-01-02").encode(): b"3",
        usage_field("u1", "key_a", "requests", "2026-01-02").encode(): b"5",
        usage_field("u1", "key_a", "credits_spent", "2026-01-02").encode(): b"40",
        usage_field("u1", "key_t", "requests", "2026-01-02", livemode=False).encode(): b"2",
        b"2026-01-02|u1|key_old|requests": b"7",  # counted before fields named the mode: live
        b"2026-01-02|u1|key_a|bogus|live": b"1",
        b"2026-01-02|u1|key_a|requests|staging": b"1",
        b"garbage": b"1",
    }
    groups = parse_snapshot(data)
    assert [(g.user_id, g.key_id, g.counts, g.livemode) for g in groups] == [
        ("u1", "key_a", {"requests": 5, "credits_spent": 40}, True),
        ("u1", "key_old", {"requests": 7}, True),
        ("u1", "key_t", {"requests": 2}, False),
        ("u2", "key_b", {"requests": 3}, True),
    ]


def test_usage_ranges_default_to_thirty_days_and_are_bounded() -> None:
    today = date(2026, 3, 31)
    assert day_range(UsageQuery(), today) == (date(2026, 3, 2), today)
    query = UsageQuery.model_validate({"from": "2026-03-01", "to": "2026-03-05"})
    assert day_range(query, today) == (date(2026, 3, 1), date(2026, 3, 5))
    for bad in ({"from": "2026-03-06", "to": "2026-03-05"}, {"from": "2025-01-01"}, {"to": "2026-02-30"}):
        with pytest.raises(ApiError) as raised:
            day_range(UsageQuery.model_validate(bad), today)
        assert raised.value.status == 400


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_store_circuit_opens_on_a_failure_and_probes_once_per_period() -> None:
    clock = FakeClock()
    circuit = StoreCircuit(clock)
    assert circuit.allow() and not circuit.is_open
    circuit.record(False, 0.25)  # an absent store: its timeout, once
    assert circuit.is_open and circuit.openings == 1
    assert [circuit.allow() for _ in range(100)] == [False] * 100  # every other request: at once
    clock.now += OPEN_SECONDS
    assert circuit.allow() and not circuit.allow()  # one probe at a time
    circuit.record(False, 0.25)
    assert circuit.is_open and circuit.openings == 1 and not circuit.allow()
    clock.now += OPEN_SECONDS
    assert circuit.allow()
    circuit.record(True, 0.001)
    assert not circuit.is_open and circuit.allow()


def test_the_store_circuit_opens_when_the_store_stays_slow() -> None:
    circuit = StoreCircuit(FakeClock())
    slow = SLOW_CALL_SECONDS * 2
    for _ in range(SLOW_CALLS_TO_OPEN - 1):
        circuit.record(True, slow)
        assert not circuit.is_open  # a hiccup is not a slow store
    circuit.record(True, 0.001)
    for _ in range(SLOW_CALLS_TO_OPEN - 1):
        circuit.record(True, slow)
    assert not circuit.is_open
    circuit.record(True, slow)
    assert circuit.is_open and not circuit.allow()


def test_an_absent_store_opens_the_circuit_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A real client to a loopback port nobody listens on: the store is absent.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Configured as a deployment is, through the environment; the lazy client is made from it.
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.delenv("RATE_LIMITS_ENABLED", raising=False)
    monkeypatch.setattr(clients, "_redis", [])
    get_settings.cache_clear()
    try:
        limiter = Limiter()
        assert [limiter.take(f"key:k{n}", 100, "key") for n in range(50)] == [None] * 50  # fail open
        assert limiter.circuit.openings == 1 and limiter.circuit.is_open  # one attempt; the rest skipped it
    finally:
        get_settings.cache_clear()

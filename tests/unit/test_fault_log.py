"""A failing dependency is logged once per interval with the count of failures, never once per request."""

from __future__ import annotations

import json

import pytest

from shared.core.logs import FaultLog


def test_an_outage_is_one_line_per_interval_with_its_count(capsys: pytest.CaptureFixture[str]) -> None:
    now = [1000.0]
    fault = FaultLog("rate_limiter_open", interval_s=60.0, clock=lambda: now[0])
    written = []
    for second in range(150):  # 10 failures a second for 150 s
        now[0] = 1000.0 + second
        written += [fault.warning("rate limiter unavailable", bucket="b") for _ in range(10)]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum(written) == len(lines) == 3  # at 0 s, 60 s, 120 s
    assert [line["count"] for line in lines] == [1, 600, 600]
    assert {line["fault"] for line in lines} == {"rate_limiter_open"}
    assert all(line["severity"] == "WARNING" and line["bucket"] == "b" for line in lines)


def test_the_first_failure_after_a_quiet_interval_is_logged_at_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = [0.0]
    fault = FaultLog("stripe_unreachable", interval_s=60.0, clock=lambda: now[0])
    assert fault.warning("stripe call failed") is True
    now[0] = 500.0
    assert fault.warning("stripe call failed") is True
    assert [json.loads(line)["count"] for line in capsys.readouterr().out.splitlines()] == [1, 1]

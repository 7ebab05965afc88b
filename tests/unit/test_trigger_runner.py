"""The local host's trigger runner: calls run in parallel (as Eventarc delivers them), each event id's
answers can be awaited, and a call that crashes is recorded as a 500, never lost silently."""

from __future__ import annotations

import threading

from localdev.host import TriggerRunner


def test_calls_run_in_parallel_and_their_answers_can_be_awaited() -> None:
    runner = TriggerRunner(workers=2, backlog=2)
    # Each call waits for the other: only two calls running at the same time get past the barrier.
    both_running = threading.Barrier(2, timeout=30)

    def call() -> str:
        both_running.wait()
        return "200 OK"

    runner.submit("evt-a", call)
    runner.submit("evt-b", call)
    assert runner.wait_for("evt-a", 30) == {"pending": 0, "statuses": ["200 OK"]}
    assert runner.wait_for("evt-b", 30) == {"pending": 0, "statuses": ["200 OK"]}
    assert runner.status()["accepted"] == 2 and runner.status()["pending"] == 0


def test_every_call_of_one_event_id_is_recorded() -> None:
    runner = TriggerRunner(workers=2, backlog=2)
    runner.submit("evt-twice", lambda: "200 OK")
    runner.submit("evt-twice", lambda: "500 INTERNAL SERVER ERROR")
    outcome = runner.wait_for("evt-twice", 30)
    assert outcome is not None and sorted(outcome["statuses"]) == ["200 OK", "500 INTERNAL SERVER ERROR"]


def test_a_call_that_crashes_is_recorded_as_a_failure() -> None:
    runner = TriggerRunner(workers=1, backlog=1)

    def crash() -> str:
        raise RuntimeError("boom")

    runner.submit("evt-crash", crash)
    outcome = runner.wait_for("evt-crash", 30)
    assert outcome is not None and outcome["statuses"][0].startswith("500")
    assert runner.wait_for("evt-unknown", 0) is None

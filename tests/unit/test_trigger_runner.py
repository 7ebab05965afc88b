"""The local host's trigger calls: answered after the function ran, journaled before it runs (a killed host
runs them again), failed ones retried with back-off, given up after the last attempt; each event id's
answers can be awaited, and a call that crashes is recorded as a 500, never lost silently."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from localdev import host
from localdev.host import TriggerCall, TriggerJournal, TriggerRetries, TriggerRunner
from tests.support.waiting import eventually


def call_of(event_id: str) -> TriggerCall:
    return TriggerCall("on_job_created", "demo-p", event_id, {"HTTP_CE_ID": event_id}, b"\x00body")


def test_calls_run_in_the_callers_threads_in_parallel_and_their_answers_can_be_awaited() -> None:
    runner = TriggerRunner()
    # Each call waits for the other: only two calls running at the same time get past the barrier.
    both_running = threading.Barrier(2, timeout=30)

    def call() -> str:
        both_running.wait()
        return "200 OK"

    answers: list[str] = []
    threads = [threading.Thread(target=lambda e=e: answers.append(runner.run(e, call))) for e in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == ["200 OK", "200 OK"]
    assert runner.wait_for("a", 30) == {"pending": 0, "statuses": ["200 OK"]}
    assert runner.status()["accepted"] == 2 and runner.status()["pending"] == 0


def test_every_call_of_one_event_id_is_recorded_and_a_crash_is_a_500() -> None:
    runner = TriggerRunner()
    assert runner.run("evt-twice", lambda: "200 OK") == "200 OK"

    def crash() -> str:
        raise RuntimeError("boom")

    assert runner.run("evt-twice", crash).startswith("500")
    outcome = runner.wait_for("evt-twice", 30)
    assert (
        outcome is not None
        and outcome["statuses"][0] == "200 OK"
        and outcome["statuses"][1].startswith("500")
    )
    assert runner.wait_for("evt-unknown", 0) is None


def test_a_call_not_finished_is_found_by_the_next_host(tmp_path: Path) -> None:
    journal = TriggerJournal(tmp_path)
    finished = journal.add(call_of("evt-done"))
    journal.add(call_of("evt-interrupted"))
    (tmp_path / "half-written.tmp").write_bytes(b"{")  # a host killed while writing: never ran
    journal.done(finished)
    after_restart = TriggerJournal(tmp_path)
    assert [call for _, call in after_restart.unfinished()] == [call_of("evt-interrupted")]
    assert not list(tmp_path.glob("*.tmp"))


def test_a_failed_call_is_retried_until_it_succeeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "RETRY_FIRST_S", 0.01)
    journal = TriggerJournal(tmp_path)
    answers = iter(["500 INTERNAL SERVER ERROR", "503 SERVICE UNAVAILABLE", "200 OK"])
    attempts: list[int] = []

    def execute(call: TriggerCall) -> str:
        attempts.append(call.attempts)
        return next(answers)

    retries = TriggerRetries(journal, execute)
    path = journal.add(call_of("evt-flaky"))
    retries.schedule(path, call_of("evt-flaky"))
    eventually(lambda: not path.exists(), message="the call succeeded and left the journal")
    assert attempts == [1, 2, 3]
    assert journal.failed() == 0 and retries.waiting() == 0


def test_a_call_failing_every_attempt_is_kept_aside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host, "RETRY_FIRST_S", 0.01)
    monkeypatch.setattr(host, "RETRY_ATTEMPTS", 3)
    journal = TriggerJournal(tmp_path)
    retries = TriggerRetries(journal, lambda call: "500 INTERNAL SERVER ERROR")
    path = journal.add(call_of("evt-broken"))
    retries.schedule(path, call_of("evt-broken"))
    eventually(lambda: journal.failed() == 1, message="the call was given up")
    assert not path.exists() and journal.unfinished() == []

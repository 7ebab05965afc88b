"""The leader/follower queue of shared calls, on a plain function: sharing forms only while a call is in
flight, answers stay with their callers, a failed shared call becomes calls alone, sizes and projects
bound a call."""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.core.clients import project_scope
from shared.core.shared_calls import SharedCalls
from tests.support.waiting import eventually


class Recorder:
    """`together` for tests: answers each request with its double, records every call's requests and
    project; the first call can be held until released; a request of -1 fails any call it is in."""

    def __init__(self, hold_first: bool = False) -> None:
        self.calls: list[list[int]] = []
        self.projects: list[str] = []
        self.first_started = threading.Event()
        self.release = threading.Event()
        if not hold_first:
            self.release.set()

    def __call__(self, requests: list[int]) -> list[int]:
        from shared.core.clients import current_project

        self.calls.append(list(requests))
        self.projects.append(current_project())
        if len(self.calls) == 1:
            self.first_started.set()
            assert self.release.wait(10)
        if -1 in requests:
            raise ValueError("bad request")
        return [2 * r for r in requests]


def test_a_lone_caller_calls_at_once() -> None:
    recorder = Recorder()
    shared: SharedCalls[int, int] = SharedCalls(recorder, lambda r: 1, 10)
    with project_scope("p1"):
        assert shared.call(3) == 6
    assert recorder.calls == [[3]] and shared.calls == 1 and shared.shared == 0


def test_requests_that_arrive_during_a_call_share_the_next_one() -> None:
    recorder = Recorder(hold_first=True)
    shared: SharedCalls[int, int] = SharedCalls(recorder, lambda r: 1, 10)
    with project_scope("p1"), ThreadPoolExecutor(max_workers=6) as pool:
        context = contextvars.copy_context()
        first = pool.submit(context.run, shared.call, 1)
        assert recorder.first_started.wait(10)
        others = [pool.submit(contextvars.copy_context().run, shared.call, n) for n in range(2, 7)]
        eventually(lambda: shared.waiting() == 5)
        recorder.release.set()
        assert first.result(timeout=10) == 2
        assert [f.result(timeout=10) for f in others] == [4, 6, 8, 10, 12]
    assert recorder.calls == [[1], [2, 3, 4, 5, 6]]
    assert shared.calls == 2 and shared.shared == 1


def test_a_failed_shared_call_becomes_calls_alone_and_the_error_stays_with_its_request() -> None:
    recorder = Recorder(hold_first=True)
    shared: SharedCalls[int, int] = SharedCalls(recorder, lambda r: 1, 10)

    def call(n: int) -> object:
        try:
            return shared.call(n)
        except ValueError as exc:
            return exc

    with project_scope("p1"), ThreadPoolExecutor(max_workers=4) as pool:
        holder = pool.submit(contextvars.copy_context().run, call, 100)
        assert recorder.first_started.wait(10)
        others = [pool.submit(contextvars.copy_context().run, call, n) for n in (5, -1, 7)]
        eventually(lambda: shared.waiting() == 3)
        recorder.release.set()
        results = [f.result(timeout=10) for f in others]
        assert holder.result(timeout=10) == 200
    assert results[0] == 10 and results[2] == 14
    assert isinstance(results[1], ValueError)
    # The shared call of three failed; then each request was called alone.
    assert sorted(recorder.calls[1]) == [-1, 5, 7]
    assert sorted(map(tuple, recorder.calls[2:])) == [(-1,), (5,), (7,)]


def test_a_lone_callers_error_is_raised_to_it() -> None:
    shared: SharedCalls[int, int] = SharedCalls(Recorder(), lambda r: 1, 10)
    with project_scope("p1"), pytest.raises(ValueError):
        shared.call(-1)


def test_a_call_carries_at_most_max_size_and_bigger_requests_go_alone() -> None:
    recorder = Recorder(hold_first=True)
    shared: SharedCalls[int, int] = SharedCalls(recorder, lambda r: r, 10)
    with project_scope("p1"), ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(contextvars.copy_context().run, shared.call, 1)
        assert recorder.first_started.wait(10)
        others = [pool.submit(contextvars.copy_context().run, shared.call, n) for n in (4, 4, 4)]
        eventually(lambda: shared.waiting() == 3)
        recorder.release.set()
        assert first.result(timeout=10) == 2 and [f.result(timeout=10) for f in others] == [8, 8, 8]
        assert shared.call(11) == 22  # over max_size: alone, never queued
    assert recorder.calls[1:3] == [[4, 4], [4]] and recorder.calls[3] == [11]


def test_callers_of_different_projects_never_share_a_call() -> None:
    recorder = Recorder(hold_first=True)
    shared: SharedCalls[int, int] = SharedCalls(recorder, lambda r: 1, 10)

    def call_in(project: str, n: int) -> int:
        with project_scope(project):
            return shared.call(n)

    with ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(call_in, "p1", 1)
        assert recorder.first_started.wait(10)
        others = [pool.submit(call_in, p, n) for p, n in (("p1", 2), ("p2", 3), ("p1", 4), ("p2", 5))]
        eventually(lambda: shared.waiting() >= 2)
        recorder.release.set()
        assert first.result(timeout=10) == 2
        assert [f.result(timeout=10) for f in others] == [4, 6, 8, 10]
    by_project: dict[str, list[int]] = {"p1": [], "p2": []}
    for project, requests in zip(recorder.projects, recorder.calls, strict=True):
        by_project[project].extend(requests)
    assert sorted(by_project["p1"]) == [1, 2, 4] and sorted(by_project["p2"]) == [3, 5]

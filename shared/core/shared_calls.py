"""Concurrent requests of one instance share Firestore calls: no wait is added, round trips are saved.

Each caller brings its request and waits. When no call of its kind is in flight, the caller makes one call
for every request waiting, its own included; requests that arrive while that call is in flight go
together in the next one. A lone caller calls at once, as it would alone, and under load a call carries
every request that arrived during the previous one: fewer calls per request, and no window to wait out.
Users: shared/core/shared_commits.py (batches) and shared/core/shared_reads.py (document reads).

When a shared call fails, each member makes its own call and gets its own answer: one member's error (a
precondition, a create() of an existing document) never becomes another's. Everything runs on callers'
threads, so nothing is left running after the requests have returned.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from shared.core.clients import current_project

Request = TypeVar("Request")
Response = TypeVar("Response")


@dataclass
class _Member(Generic[Request, Response]):
    request: Request
    response: Response | None = None
    error: Exception | None = None  # what a call for this request alone raised
    alone: bool = False  # the shared call failed: call alone
    done: bool = False


@dataclass
class _Queue(Generic[Request, Response]):
    cond: threading.Condition = field(default_factory=threading.Condition)
    waiting: list[_Member[Request, Response]] = field(default_factory=list)
    busy: bool = False


class SharedCalls(Generic[Request, Response]):
    """A queue per project. `together` makes one call for several requests and answers each, in order;
    `size` weighs a request against `max_size` (one call carries at most that much); with `touches`, a
    call never carries two requests that touch the same document (each would be judged on the state
    before the call: two claims on one read would both win), and the later one waits for the next call."""

    def __init__(
        self,
        together: Callable[[list[Request]], list[Response]],
        size: Callable[[Request], int],
        max_size: int,
        touches: Callable[[Request], frozenset[str]] | None = None,
    ) -> None:
        self._together = together
        self._size = size
        self.max_size = max_size
        # What a request touches (document paths): requests that touch the same thing never share a call.
        self._touches = touches
        self._lock = threading.Lock()
        self._queues: dict[str, _Queue[Request, Response]] = {}
        self.calls = 0  # calls made, for tests and benchmarks
        self.shared = 0  # of those, calls that carried more than one request and succeeded

    def call(self, request: Request) -> Response:
        """Answer `request`; raises what a call for it alone raises."""
        if self._size(request) > self.max_size:
            return self._alone(request)
        member: _Member[Request, Response] = _Member(request)
        queue = self._queue()
        with queue.cond:
            queue.waiting.append(member)
        while True:
            with queue.cond:
                while not member.done and queue.busy:
                    queue.cond.wait()
                if member.done:
                    break
                queue.busy = True
                group = self._take(queue)
            try:
                self._call_group(group)
            finally:
                with queue.cond:
                    queue.busy = False
                    queue.cond.notify_all()
        if member.alone:
            return self._alone(request)
        if member.error is not None:
            raise member.error
        assert member.response is not None
        return member.response

    def waiting(self) -> int:
        """Requests waiting for a call, over all projects (for tests)."""
        with self._lock:
            queues = list(self._queues.values())
        return sum(len(queue.waiting) for queue in queues)

    def _alone(self, request: Request) -> Response:
        self._count()
        return self._together([request])[0]

    def _count(self, calls: int = 1, shared: int = 0) -> None:
        with self._lock:
            self.calls += calls
            self.shared += shared

    def _queue(self) -> _Queue[Request, Response]:
        project = current_project()
        with self._lock:
            queue = self._queues.get(project)
            if queue is None:
                queue = self._queues[project] = _Queue()
            return queue

    def _take(self, queue: _Queue[Request, Response]) -> list[_Member[Request, Response]]:
        """The next call's requests: oldest first, within `max_size`, none touching what another touches.
        The oldest waiting request is always taken, so every request gets its call."""
        group: list[_Member[Request, Response]] = []
        total = 0
        touched: set[str] = set()
        for member in list(queue.waiting):
            size = self._size(member.request)
            if total + size > self.max_size:
                break
            touches = self._touches(member.request) if self._touches is not None else frozenset()
            if touches & touched:
                continue
            queue.waiting.remove(member)
            group.append(member)
            total += size
            touched |= touches
        return group

    def _call_group(self, group: list[_Member[Request, Response]]) -> None:
        """One call for the group (a group of one is simply that caller's call). When a shared call fails,
        every member calls alone. Always marks each member done."""
        try:
            self._count()
            responses = self._together([member.request for member in group])
            if len(group) > 1:
                self._count(calls=0, shared=1)
            for member, response in zip(group, responses, strict=True):
                member.response = response
        except Exception as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                for member in group:
                    member.alone = True
        except BaseException:
            for member in group:
                member.alone = True
            raise
        finally:
            for member in group:
                member.done = True

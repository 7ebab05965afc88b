"""Concurrent requests of one instance share Firestore commits: no wait is added, round trips are saved.

Each caller brings its writes (an all-or-nothing set) and waits. When no commit is in flight, the caller
commits everything waiting, its own writes included, as one batch; writes that arrive while that commit
is in flight go together in the next one. A lone caller commits at once, as it would alone, and under load
a commit carries every request that arrived during the previous one: fewer calls per request, and no
window to wait out (the counters' group commit, shared/counters/group_commit.py, waits on purpose to
merge increments of one shard; this merges nothing).

A batch is atomic, so a caller's writes still commit all or none. When a shared batch fails (one member's
precondition or create() failed), nothing of it was written, and each member commits alone and gets its
own answer: one member's conflict never becomes another's error. Everything is committed by a caller's
own thread, so nothing runs after the requests have returned.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.core.clients import current_project, firestore_client

# Writes per shared batch at most: under the 500 writes a batch may hold.
MAX_SHARED_WRITES = 400


class WriteKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Write:
    kind: WriteKind
    ref: Any
    data: dict[str, Any] = field(default_factory=dict)
    option: Any = None  # a write option (precondition), as `client.write_option` makes it


@dataclass
class _Member:
    writes: Sequence[Write]
    results: list[Any] | None = None
    error: Exception | None = None  # what committing these writes (alone) raised
    alone: bool = False  # the shared batch failed: commit alone
    done: bool = False


@dataclass
class _Queue:
    cond: threading.Condition = field(default_factory=threading.Condition)
    waiting: list[_Member] = field(default_factory=list)
    busy: bool = False


class SharedCommits:
    """One queue per project, one process-wide instance (`shared_commits`)."""

    def __init__(self, max_writes: int = MAX_SHARED_WRITES) -> None:
        self.max_writes = max_writes
        self._lock = threading.Lock()
        self._queues: dict[str, _Queue] = {}
        self.commits = 0  # batches committed, for tests and benchmarks
        self.shared = 0  # of those, batches that carried more than one caller's writes

    def commit(self, writes: Sequence[Write]) -> list[Any]:
        """Commit `writes` as one all-or-nothing set; their write results, in order. Raises what a commit
        of these writes alone raises."""
        if not writes or len(writes) > self.max_writes:
            return self._commit_alone(writes)
        member = _Member(writes)
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
                self._commit_group(group)
            finally:
                with queue.cond:
                    queue.busy = False
                    queue.cond.notify_all()
        if member.alone:
            return self._commit_alone(writes)
        if member.error is not None:
            raise member.error
        assert member.results is not None
        return member.results

    def _queue(self) -> _Queue:
        project = current_project()
        with self._lock:
            queue = self._queues.get(project)
            if queue is None:
                queue = self._queues[project] = _Queue()
            return queue

    def _take(self, queue: _Queue) -> list[_Member]:
        group: list[_Member] = []
        count = 0
        while queue.waiting and count + len(queue.waiting[0].writes) <= self.max_writes:
            member = queue.waiting.pop(0)
            group.append(member)
            count += len(member.writes)
        return group

    def _commit_group(self, group: list[_Member]) -> None:
        """Commit the group as one batch (a group of one is simply that caller's commit). When a shared
        batch fails, every member commits alone. Always marks each member done."""
        try:
            results = self._commit_alone([w for member in group for w in member.writes])
            if len(group) > 1:
                self.shared += 1
            start = 0
            for member in group:
                member.results = results[start : start + len(member.writes)]
                start += len(member.writes)
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

    def _commit_alone(self, writes: Sequence[Write]) -> list[Any]:
        batch = firestore_client().batch()
        for write in writes:
            if write.kind is WriteKind.CREATE:
                batch.create(write.ref, write.data)
            elif write.kind is WriteKind.UPDATE:
                batch.update(write.ref, write.data, option=write.option)
            else:
                batch.delete(write.ref, option=write.option)
        self.commits += 1
        return list(batch.commit())


_shared_commits = SharedCommits()


def shared_commits() -> SharedCommits:
    return _shared_commits
